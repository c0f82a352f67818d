"""bench/transcripts.py: 30 conversations through the console channel, every typed line answered, and the
chairs' list at the end free of the personal details typed in them."""

from __future__ import annotations

import re

from bench import transcripts


async def test_the_transcripts_cover_30_conversations_each_line_answered():
    text = await transcripts.run()
    assert len(re.findall(r"^## \d+\. ", text, flags=re.M)) == len(transcripts.CONVERSATIONS) == 30
    blocks = re.findall(r"^> .*\n(.*)$", text, flags=re.M)
    assert blocks and all(line.strip() for line in blocks), "every typed line has a reply under it"
    chairs_list = text[text.index("## Afterwards"):]
    assert "rejected_answer" in chairs_list and "[phone]" in chairs_list
    assert not re.search(r"\b0\d{9}\b", chairs_list)
    assert "XXXX-XXXX" in text and not re.search(r"/lienket (?!XXXX-XXXX)[A-Z0-9]{4}-[A-Z0-9]{4}", text)
