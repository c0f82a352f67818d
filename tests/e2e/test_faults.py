"""Start-up and runtime faults through the real ``python -m bot run`` against the fakes, exit codes checked."""

from __future__ import annotations

import asyncio
import shutil
import signal
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.e2e.conftest import TELEGRAM_TOKEN, WEBHOOK_SECRET, ZALO_TOKEN, free_port
from tests.e2e.test_webhook_integrity import bot_env, upgraded, wait_for
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.zalo_server import FakeZalo

ALWAYS = 10_000


def messenger_env(telegram: FakeTelegram | None, zalo: FakeZalo | None, mode: str, port: int) -> dict[str, str]:
    env = {"web_port": str(port), "webhook_lease_seconds": "1"}
    if telegram is not None:
        env.update(telegram_token=TELEGRAM_TOKEN, telegram_api_url=telegram.base_url, telegram_mode=mode)
        if mode == "webhook":
            env.update(telegram_webhook_secret=WEBHOOK_SECRET,
                       telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook")
    if zalo is not None:
        env.update(zalo_token=ZALO_TOKEN, zalo_api_url=zalo.base_url, zalo_mode=mode)
        if mode == "webhook":
            env.update(zalo_webhook_secret=WEBHOOK_SECRET, zalo_webhook_url=f"http://127.0.0.1:{port}/zalo/webhook")
    return env


async def start_bot(tmp_path: Path, model_cache: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=tmp_path,
                                                env=bot_env(tmp_path, model_cache, **env),
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)


async def ended(proc: asyncio.subprocess.Process, *, terminate: bool = True) -> tuple[int, str]:
    """SIGTERM (unless it is expected to stop by itself), then its exit code and stderr."""
    if terminate and proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    _out, err = await asyncio.wait_for(proc.communicate(), timeout=240)
    return proc.returncode, err.decode(errors="replace")


@pytest.mark.parametrize("mode", ["polling", "webhook"])
@pytest.mark.parametrize("messengers", ["telegram", "both"])
async def test_a_server_without_the_optional_methods_is_served(tmp_path, model_cache, mode, messengers):
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram, FakeZalo.running(token=ZALO_TOKEN) as zalo:
        telegram.fail("setMyCommands", 404, times=ALWAYS, description="Not Found: method not found")
        telegram.fail("deleteMyCommands", 404, times=ALWAYS, description="Not Found: method not found")
        telegram.fail("deleteWebhook", 400, times=ALWAYS, description="Bad Request: not supported")
        zalo.fail("getWebhookInfo", 400, times=None)
        with_zalo = zalo if messengers == "both" else None
        proc = await start_bot(tmp_path, model_cache, messenger_env(telegram, with_zalo, mode, free_port()))
        try:
            if mode == "polling":
                await wait_for(lambda: telegram.count("getUpdates") or proc.returncode is not None, 240)
            else:
                await wait_for(lambda: telegram.count("setWebhook") or proc.returncode is not None, 240)
            assert proc.returncode is None
            member = telegram.user(401)
            await member.says("gạo kim sáng", timeout=30)
            assert "20%" in member.last_reply
            if with_zalo is not None:
                await wait_for(lambda: zalo.count("getUpdates") or zalo.webhook_url, 60)
                zalo_member = zalo.user("a4b2c3d4e5f60718")
                await zalo_member.says("sữa hà lan", timeout=30)
                assert "30%" in zalo_member.last_reply.text
        finally:
            code, err = await ended(proc)
        assert code == 0, err[-3000:]
        assert "setMyCommands failed" in err and "Traceback" not in err, err[-3000:]
        if mode == "polling":
            assert "deleteWebhook failed" in err


@pytest.mark.parametrize(("messenger", "mode"), [("telegram", "polling"), ("telegram", "webhook"),
                                                 ("zalo", "polling"), ("zalo", "webhook")])
async def test_a_rejected_token_stops_with_one_line_and_a_failure_exit_code(tmp_path, model_cache, messenger, mode):
    # the fakes know another token: every call with the bot's answers 401
    async with FakeTelegram.running(token="999:OTHER") as telegram, FakeZalo.running(token="999:other") as zalo:
        env = messenger_env(telegram if messenger == "telegram" else None, zalo if messenger == "zalo" else None,
                            mode, free_port())
        proc = await start_bot(tmp_path, model_cache, env)
        code, err = await asyncio.wait_for(ended(proc, terminate=False), timeout=300)
    assert code != 0
    rejected = [line for line in err.splitlines() if "token was rejected" in line]
    assert len(rejected) == 1 and f"UNIONBOT_{messenger.upper()}_TOKEN" in rejected[0], err[-3000:]
    assert "Traceback" not in err and TELEGRAM_TOKEN not in err and ZALO_TOKEN not in err, err[-3000:]


async def test_a_rejected_telegram_token_leaves_zalo_serving(tmp_path, model_cache):
    async with FakeTelegram.running(token="999:OTHER") as telegram, FakeZalo.running(token=ZALO_TOKEN) as zalo:
        proc = await start_bot(tmp_path, model_cache, messenger_env(telegram, zalo, "polling", free_port()))
        try:
            await wait_for(lambda: zalo.count("getUpdates") or proc.returncode is not None, 240)
            member = zalo.user("a5b2c3d4e5f60718")
            await member.says("gạo kim sáng", timeout=30)
            assert "20%" in member.last_reply.text
            await asyncio.sleep(1)
            assert proc.returncode is None  # Telegram stopped, Zalo goes on
        finally:
            code, err = await ended(proc)
    assert code == 0, err[-3000:]
    assert len([line for line in err.splitlines() if "token was rejected" in line]) == 1, err[-3000:]


async def test_sigterm_lets_the_update_in_hand_finish(tmp_path, model_cache):
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram:
        entered, release = asyncio.Event(), asyncio.Event()
        send_message = telegram._handlers["sendMessage"]

        async def held(bot, params):  # the first reply waits in the fake until the test lets it go
            if not release.is_set():
                entered.set()
                await release.wait()
            return await send_message(bot, params)

        telegram._handlers["sendMessage"] = held
        proc = await start_bot(tmp_path, model_cache, messenger_env(telegram, None, "polling", free_port()))
        try:
            await wait_for(lambda: telegram.count("getUpdates") or proc.returncode is not None, 240)
            member = telegram.user(402)
            telegram.inject({"message": telegram.new_user_message(member, member.chat, text="/start")})
            await asyncio.wait_for(entered.wait(), timeout=60)
            proc.send_signal(signal.SIGTERM)  # while the reply is on its way
            await asyncio.sleep(1.0)
            release.set()
        finally:
            code, err = await ended(proc, terminate=False)
        assert code == 0, err[-3000:]
        texts = [m["text"] for m in member.replies]
        assert len(texts) == 2, (texts, err[-3000:])  # the greeting and the question for the code: nothing cut off


async def test_a_database_outage_at_the_claim_gets_an_apology_not_silence(telegram, monkeypatch):
    from sqlalchemy.exc import OperationalError

    async def down(*_args, **_kwargs):
        raise OperationalError("INSERT INTO processed_updates", {}, ConnectionRefusedError("database down"))

    channel = telegram.server.channels[0]
    monkeypatch.setattr(channel.updates, "claim", down)
    member = telegram.user(403)
    if telegram.mode == "polling":
        await member.says("gạo kim sáng", timeout=10)
        assert "Xin lỗi" in member.last_reply
    else:  # the webhook cannot store it: 503, and Telegram delivers it again
        monkeypatch.setattr(channel.updates, "accept", down)
        update = {"message": telegram.new_user_message(member, member.chat, text="gạo kim sáng")}
        assert await telegram.deliver_raw(update) == 503
        monkeypatch.undo()
        assert await telegram.deliver_raw(update) == 200
        await wait_for(lambda: member.replies)
        assert "20%" in member.last_reply


async def test_a_deleted_sqlite_file_is_a_loud_stop(tmp_path, model_cache):
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram:
        proc = await start_bot(tmp_path, model_cache, messenger_env(telegram, None, "polling", free_port()))
        try:
            await wait_for(lambda: telegram.count("getUpdates") or proc.returncode is not None, 240)
            (tmp_path / "data" / "unionbot.db").unlink()
            code, err = await asyncio.wait_for(ended(proc, terminate=False), timeout=60)
        finally:
            if proc.returncode is None:
                proc.kill()
    assert code != 0
    assert "unionbot.db was deleted or replaced" in err and "Traceback" not in err, err[-3000:]
    await restart_refuses_a_fresh_database(tmp_path, model_cache, tmp_path / "data" / "unionbot.db", {})


@pytest.mark.parametrize("lost", ["file", "folder"])
async def test_a_sqlite_database_lost_while_stopped_is_a_loud_error_at_start(tmp_path, model_cache, lost):
    """The database created at the first start is gone at the next (deleted, or its folder not mounted): one line and
    exit code 1, not a fresh empty database in its place. The file is at an explicit path, outside the data dir."""
    folder = tmp_path / "mounted"
    database = {"database_url": f"sqlite+aiosqlite:///{folder / 'unionbot.db'}"}
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram:
        proc = await start_bot(tmp_path, model_cache, {**messenger_env(telegram, None, "polling", free_port()),
                                                       **database})
        try:
            await wait_for(lambda: telegram.count("getUpdates") or proc.returncode is not None, 240)
        finally:
            code, err = await ended(proc)
        assert code == 0, err[-3000:]
    if lost == "folder":
        shutil.rmtree(folder)
    else:
        for file in folder.glob("unionbot.db*"):
            file.unlink()
    await restart_refuses_a_fresh_database(tmp_path, model_cache, folder / "unionbot.db", database)


async def restart_refuses_a_fresh_database(tmp_path: Path, model_cache: Path, database: Path, env: dict) -> None:
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram:
        proc = await start_bot(tmp_path, model_cache, {**messenger_env(telegram, None, "polling", free_port()), **env})
        code, err = await asyncio.wait_for(ended(proc, terminate=False), timeout=120)
        assert telegram.count("getUpdates") == 0
    assert code == 1, err[-3000:]
    lines = [line for line in err.splitlines() if "is missing" in line]
    assert len(lines) == 1 and str(database) in lines[0] and "Restore it from a backup" in lines[0], err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert not await asyncio.to_thread(database.exists)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def test_sqlite_unreachable_at_start_is_retried_and_the_bot_serves_when_it_is_back(tmp_path, model_cache):
    await database_down_at_start(tmp_path, model_cache, None)


async def test_postgresql_down_at_start_is_retried_and_the_bot_serves_when_it_is_back(tmp_path, model_cache,
                                                                                      pg_database_url):
    await upgraded(pg_database_url)
    await database_down_at_start(tmp_path, model_cache, pg_database_url)


async def database_down_at_start(tmp_path: Path, model_cache: Path, pg_url: str | None) -> None:
    from sqlalchemy.engine import make_url

    port = free_port()
    backend = "postgresql" if pg_url else "sqlite"
    if backend == "postgresql":  # PostgreSQL behind a TCP proxy that is not listening yet
        real = make_url(pg_url)
        url = real.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    else:  # the SQLite folder cannot be created yet (a file stands where it goes, like a mount not up yet)
        blocker = tmp_path / "db"
        blocker.write_text("not a folder")
        url = f"sqlite+aiosqlite:///{blocker / 'unionbot.db'}"
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram:
        env = {**messenger_env(telegram, None, "polling", free_port()), "database_url": url}
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=tmp_path,
                                                    env=bot_env(tmp_path, model_cache, **env),
                                                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        lines: list[str] = []

        async def read() -> None:
            while line := await proc.stderr.readline():
                lines.append(line.decode(errors="replace"))

        reader = asyncio.create_task(read())
        proxy = None
        try:
            await wait_for(lambda: sum("database is unreachable at start" in line for line in lines) >= 2
                           or proc.returncode is not None, 240)
            assert proc.returncode is None
            if backend == "postgresql":
                async def forward(client_reader, client_writer):
                    up_reader, up_writer = await asyncio.open_connection(real.host or "127.0.0.1", real.port or 5432)
                    await asyncio.gather(_pipe(client_reader, up_writer), _pipe(up_reader, client_writer))

                proxy = await asyncio.start_server(forward, "127.0.0.1", port)
            else:
                blocker.unlink()
            await wait_for(lambda: telegram.count("getUpdates") or proc.returncode is not None, 240)
            member = telegram.user(404)
            await member.says("gạo kim sáng", timeout=30)
            assert "20%" in member.last_reply
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), timeout=120)
            await reader
            if proxy is not None:
                proxy.close()
    assert proc.returncode == 0, "".join(lines)[-3000:]
    assert "Traceback" not in "".join(lines), "".join(lines)[-3000:]


async def test_postgresql_backends_terminated_mid_run_cost_no_reply(settings, clock, pg_database_url):
    import asyncpg
    from sqlalchemy.engine import make_url

    from tests.e2e.conftest import running_bot

    url = make_url(pg_database_url)
    async with (FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram,
                running_bot(settings, clock, telegram_token=SecretStr(TELEGRAM_TOKEN),
                            telegram_api_url=telegram.base_url, database_url=pg_database_url)):
        member = telegram.user(405)
        await member.says("gạo kim sáng")
        assert "20%" in member.last_reply
        admin = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                                      database=url.database)
        try:  # what a PostgreSQL restart or an operator's pg_terminate_backend does to the pool's connections
            killed = await admin.fetchval("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        finally:
            await admin.close()
        assert killed >= 1
        await member.says("sữa hà lan", timeout=10)
        assert "30%" in member.last_reply and "Xin lỗi" not in member.last_reply


async def test_postgresql_cut_mid_run_every_message_is_answered_once_it_is_back(settings, clock, pg_database_url):
    """A network cut between the bot and PostgreSQL (a TCP proxy the test cuts for a few seconds): the members who
    wrote during the cut are answered once the database is back, each once, none with an apology."""
    from sqlalchemy.engine import make_url

    from tests.e2e.conftest import running_bot
    from tests.fakes.tcp_proxy import CuttableProxy

    real = make_url(pg_database_url)
    proxy = CuttableProxy(real.host or "127.0.0.1", real.port or 5432, free_port())
    await proxy.start()
    through_proxy = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        async with (FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram,
                    running_bot(settings, clock, telegram_token=SecretStr(TELEGRAM_TOKEN),
                                telegram_api_url=telegram.base_url, database_url=through_proxy)):
            first = telegram.user(406)
            await first.says("gạo kim sáng")
            assert "20%" in first.last_reply
            await proxy.cut()
            members = [telegram.user(410 + i) for i in range(6)]
            for i, member in enumerate(members):  # sent during the cut: half of them before a pause, half after
                telegram.inject({"message": telegram.new_user_message(member, member.chat, text="sữa hà lan")})
                if i == len(members) // 2 - 1:
                    await asyncio.sleep(1.5)
            await asyncio.sleep(1.5)
            assert not any(member.replies for member in members)  # nothing answered without the database
            await proxy.restore()
            await wait_for(lambda: all(member.replies for member in members), 60)
            await telegram.wait_idle(timeout=10)
            for member in members:
                texts = [m["text"] for m in member.replies]
                assert len(texts) == 1 and "30%" in texts[0], texts
            await first.says("sữa hà lan")  # and the bot goes on as before
            assert "30%" in first.last_reply
    finally:
        await proxy.stop()


@pytest.mark.parametrize("messengers", ["telegram", "both"])
async def test_a_token_revoked_while_polling_stops_telegram_with_one_line(tmp_path, model_cache, messengers):
    """getUpdates answers 401 mid-run (the token was revoked in BotFather): Telegram stops with one clear line; alone,
    the process exits non-zero by itself; beside Zalo, Zalo keeps serving."""
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram, FakeZalo.running(token=ZALO_TOKEN) as zalo:
        with_zalo = zalo if messengers == "both" else None
        proc = await start_bot(tmp_path, model_cache, messenger_env(telegram, with_zalo, "polling", free_port()))
        try:
            await wait_for(lambda: telegram.count("getUpdates") or proc.returncode is not None, 240)
            member = telegram.user(407)
            await member.says("gạo kim sáng", timeout=30)
            assert "20%" in member.last_reply
            telegram.fail("getUpdates", 401, times=ALWAYS, description="Unauthorized")
            await wait_for(lambda: any(f["status"] == 401 for f in telegram.faults_served), 60)
            if with_zalo is None:
                code, err = await asyncio.wait_for(ended(proc, terminate=False), timeout=60)
                assert code != 0, err[-3000:]
            else:
                await asyncio.sleep(2)
                assert proc.returncode is None  # Telegram stopped, Zalo goes on
                await wait_for(lambda: zalo.count("getUpdates"), 60)
                zalo_member = zalo.user("a6b2c3d4e5f60718")
                await zalo_member.says("sữa hà lan", timeout=30)
                assert "30%" in zalo_member.last_reply.text
                code, err = await ended(proc)
                assert code == 0, err[-3000:]
        finally:
            if proc.returncode is None:
                proc.kill()
    rejected = [line for line in err.splitlines() if "token was rejected" in line]
    assert len(rejected) == 1 and "while polling" in rejected[0] and "UNIONBOT_TELEGRAM_TOKEN" in rejected[0], \
        err[-3000:]
    assert "Failed to fetch updates" not in err and "Traceback" not in err and TELEGRAM_TOKEN not in err, err[-3000:]
    assert sum(f["status"] == 401 for f in telegram.faults_served) == 1  # not retried forever


async def test_sigterm_with_outbox_sends_and_updates_in_flight_loses_nothing(tmp_path, model_cache):
    """SIGTERM while announcement rows and members' replies are on their way (held in the fake): the process exits 0
    after they complete, rows are settled as what happened (sent ones ``sent``, the rest ``pending``, none left
    ``sending``), and after a restart every recipient has the announcement exactly once and every member one reply."""
    from storage.db import Database
    from storage.outbox import OutboxRepository
    from tests.e2e.test_load import BOT_ID, FIRST_RECIPIENT, queue_announcement

    rows = 60
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram:
        for i in range(rows):
            telegram.user(FIRST_RECIPIENT + i)
        held, release = [], asyncio.Event()
        send_message = telegram._handlers["sendMessage"]

        async def holding(bot, params):  # every send waits in the fake until the test lets them go
            held.append(int(params["chat_id"]))
            await release.wait()
            return await send_message(bot, params)

        telegram._handlers["sendMessage"] = holding
        env = {**messenger_env(telegram, None, "polling", free_port()), "delivery_rate_telegram": "10"}
        proc = await start_bot(tmp_path, model_cache, env)
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'unionbot.db'}")
        try:
            await wait_for(lambda: telegram.count("getUpdates") or proc.returncode is not None, 240)
            await queue_announcement(db, rows)
            members = [telegram.user(420 + i) for i in range(4)]
            for member in members:
                telegram.inject({"message": telegram.new_user_message(member, member.chat, text="gạo kim sáng")})
            await wait_for(lambda: {m.id for m in members} <= set(held) and any(c >= FIRST_RECIPIENT for c in held),
                           60)
            proc.send_signal(signal.SIGTERM)  # replies and announcement rows in flight
            await asyncio.sleep(1.0)
            release.set()
            code, err = await ended(proc, terminate=False)
            assert code == 0, err[-3000:]
            counts = await OutboxRepository(db).counts(bot_id=BOT_ID)
            received = [int(p["chat_id"]) for name, p in telegram.calls if name == "sendMessage"
                        and int(p["chat_id"]) >= FIRST_RECIPIENT]
            assert counts["sending"] == 0 and counts["sent"] == len(set(received)) > 0, counts
            assert counts["pending"] == rows - counts["sent"], counts
            assert all(len(m.replies) == 1 and "20%" in m.last_reply for m in members), err[-3000:]

            proc = await start_bot(tmp_path, model_cache, env)  # the rest goes out after a restart, nothing twice
            await wait_for(lambda: len([1 for name, p in telegram.calls if name == "sendMessage"
                                        and int(p["chat_id"]) >= FIRST_RECIPIENT]) >= rows
                           or proc.returncode is not None, 120)
            await asyncio.sleep(1.0)
            code, err = await ended(proc)
            assert code == 0, err[-3000:]
        finally:
            if proc.returncode is None:
                proc.kill()
            await db.dispose()
    received = [int(p["chat_id"]) for name, p in telegram.calls if name == "sendMessage"
                and int(p["chat_id"]) >= FIRST_RECIPIENT]
    assert sorted(received) == [FIRST_RECIPIENT + i for i in range(rows)]  # every recipient exactly once
    assert all(len(m.replies) == 1 for m in members)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_set_my_commands_answering_400_is_a_warning_and_the_bot_serves(settings, clock, mode, caplog):
    from tests.e2e.conftest import running_bot

    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram:
        telegram.fail("setMyCommands", 400, times=ALWAYS, description="Bad Request: BOT_COMMANDS_TOO_MUCH")
        port = free_port()
        values = {"telegram_token": SecretStr(TELEGRAM_TOKEN), "telegram_api_url": telegram.base_url,
                  "telegram_mode": mode}
        if mode == "webhook":
            values.update(telegram_webhook_secret=SecretStr(WEBHOOK_SECRET), web_port=port,
                          telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook")
        async with running_bot(settings, clock, **values):
            member = telegram.user(430)
            await member.says("gạo kim sáng", timeout=30)
            assert "20%" in member.last_reply
    assert any("setMyCommands failed" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


async def test_a_zalo_token_revoked_while_polling_stops_with_one_line_and_a_failure_exit_code(tmp_path, model_cache):
    async with FakeZalo.running(token=ZALO_TOKEN) as zalo:
        proc = await start_bot(tmp_path, model_cache, messenger_env(None, zalo, "polling", free_port()))
        try:
            await wait_for(lambda: zalo.count("getUpdates") or proc.returncode is not None, 240)
            member = zalo.user("a7b2c3d4e5f60718")
            await member.says("gạo kim sáng", timeout=30)
            assert "20%" in member.last_reply.text
            zalo.fail("getUpdates", 401, times=None)
            code, err = await asyncio.wait_for(ended(proc, terminate=False), timeout=90)
        finally:
            if proc.returncode is None:
                proc.kill()
    assert code != 0
    rejected = [line for line in err.splitlines() if "token was rejected" in line]
    assert len(rejected) == 1 and "UNIONBOT_ZALO_TOKEN" in rejected[0], err[-3000:]
    assert "Traceback" not in err and ZALO_TOKEN not in err, err[-3000:]


async def test_a_webhook_update_retried_through_an_outage_longer_than_its_lease_is_answered_once(settings, clock,
                                                                                              monkeypatch):
    """The database fails the handling for longer than the stored update's lease (1 s here): the stored-update pass
    must not take it again while its retry still holds it, so the member gets one answer, not two."""
    from sqlalchemy.exc import OperationalError

    from tests.e2e.conftest import running_bot

    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram:
        port = free_port()
        async with running_bot(settings, clock, telegram_token=SecretStr(TELEGRAM_TOKEN),
                               telegram_api_url=telegram.base_url, telegram_mode="webhook", webhook_lease_seconds=1,
                               telegram_webhook_secret=SecretStr(WEBHOOK_SECRET), web_port=port,
                               telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook") as (app, _server):
            core = app.core
            route, down_until = core._route, asyncio.get_running_loop().time() + 4.0
            tries = []

            async def away_for_a_while(*args, **kwargs):  # the database is away for 4 s, as seen by the handling
                tries.append(1)
                if asyncio.get_running_loop().time() < down_until:
                    raise OperationalError("SELECT", {}, ConnectionRefusedError("database down"))
                return await route(*args, **kwargs)

            monkeypatch.setattr(core, "_route", away_for_a_while)
            member = telegram.user(440)
            update = {"message": telegram.new_user_message(member, member.chat, text="gạo kim sáng")}
            assert await telegram.deliver_raw(update) == 200
            await wait_for(lambda: member.replies, 60)
            await asyncio.sleep(3)  # two more stored-update passes
            texts = [m["text"] for m in member.replies]
            assert len(texts) == 1 and "20%" in texts[0], texts
            assert len(tries) >= 3  # it was retried, not answered at once
