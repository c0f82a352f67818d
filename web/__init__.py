"""The union office web console: server-rendered pages (aiohttp + Jinja2) on the bot's own web server."""
