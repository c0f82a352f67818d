"""The intent inventory and how knowledge kinds map onto it."""

GREETING, THANKS, GOODBYE, HELP = "greeting", "thanks", "goodbye", "help"
BENEFIT, PROGRAMME, LOAN = "benefit", "programme", "loan"
EMULATION_PHASE, MOVEMENT, CLUSTER = "emulation_phase", "movement", "cluster"
UNION_FACT, COMMENDATION, HARDSHIP_REQUEST = "union_fact", "commendation", "hardship_request"
OUT_OF_SCOPE = "out_of_scope"
UNSURE = "unsure"  # not a trained class: the matcher's verdict when nothing is confident enough

SMALL_TALK = frozenset({GREETING, THANKS, GOODBYE, HELP})

#: knowledge kinds each knowledge intent answers from
INTENT_KINDS: dict[str, tuple[str, ...]] = {
    BENEFIT: ("benefit",),
    PROGRAMME: ("programme", "loan"),
    LOAN: ("loan",),
    EMULATION_PHASE: ("campaign",),
    MOVEMENT: ("movement", "title"),
    CLUSTER: ("cluster",),
    UNION_FACT: ("fact",),
    COMMENDATION: ("commendation",),
}

#: the intent a bare mention of an entry of each kind means
KIND_INTENT: dict[str, str] = {
    "benefit": BENEFIT, "programme": PROGRAMME, "loan": LOAN, "campaign": EMULATION_PHASE,
    "movement": MOVEMENT, "title": MOVEMENT, "cluster": CLUSTER, "fact": UNION_FACT,
    "commendation": COMMENDATION,
}
