"""The offline translator's vocabulary: how people name models, parameters, interventions and metrics.

Everything here is data (regex fragments over lower-cased text after `CANONICAL` rewriting), so
that teaching the translator a new phrasing is one line in one table. The pipeline that reads these
tables is in `simqa/translators/offline.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------- canonical rewriting
# Rewrites applied in order to the normalised question, so later stages see one name per concept.
CANONICAL: tuple[tuple[str, str], ...] = (
    (r"\br\s*[-_]?\s*(?:naught|nought|zero|nil|0)\b|\br_?0\b|\brₒ\b", "r0"),
    (r"\b(?:basic|basal)\s+reproduct(?:ion|ive)\s+(?:number|ratio|rate)\b", "r0"),
    (r"\breproduct(?:ion|ive)\s+(?:number|ratio|rate)\b", "r0"),
    (r"\bthe\s+r\s+(?:value|number)\b|\br\s*-?\s*(?:value|number)\b", "r0"),
    (r"\bper\s*cent\b|\bpercent(?:age)?\b|\bpct\b", "%"),
    (r"\bppl\b|\bpeeps\b|\bfolks?\b", "people"),
    (r"\block\s*-?\s*downs?\b", "lockdown"),
    (r"\bself\s*-\s*isolat", "self isolat"),
    (r"\bwork(?:ing|s)?\s+from\s+home\b|\bwfh\b|\bremote\s+work(?:ing)?\b", "workplace closure"),
    (r"\bstay\s*-?\s*(?:at\s*-?\s*)?home\s+orders?\b|\bshelter\s+in\s+place\b", "lockdown"),
    (r"\bsocial(?:ly)?\s+distanc\w*|\bphysical\s+distanc\w*", "distancing"),
    (r"\bdrivers\b|\briders\b|\bdelivery\s+(?:staff|people|workers)\b|\bbikers\b|\bcouriers?s\b", "couriers"),
    (r"\bdriver\b|\brider\b", "courier"),
    (r"\bkm\s*/\s*h(?:r|our)?\b|\bkm\s+(?:per|an|a)\s+hour\b|\bkmh\b|\bkph\b", "km/h"),
    (r"\b90(?:th)?\s*-?\s*(?:th\s+)?percentile\b|\bp\s*90\b|\bninetieth\s+percentile\b", "p90"),
    (r"\bmedian\b|\bp\s*50\b|\b50(?:th)?\s*-?\s*percentile\b", "p50"),
    (r"\bagent\s*-?\s*based(?:\s+model)?\b|\bindividual\s*-?\s*based(?:\s+model)?\b", "abm"),
    (r"\butilis", "utiliz"),
    (r"\bvax\w*|\bjabs?\b|\bimmunis\w*|\bimmuniz\w*|\binoculat\w*", "vaccinate"),
)

# --------------------------------------------------------------------------- model choice
EPIDEMIC_WORDS = (
    r"epidemic|pandemic|outbreak|infect\w*|r0|disease|virus|viral|flu|influenza|covid\w*|measles|contagi\w*|"
    r"transmi\w*|incubation|latent|attack rate|vaccin\w*|lockdown|distancing|quarantin\w*|isolat\w*|"
    r"seir|sir|compartmental|epidemiolog\w*|cases?|pathogen|herd immunity|immun\w*|sick|illness|"
    r"hospital\w*|spread\w*|contacts?|masks?|school closure|susceptible|peak\w*|population|incubation\w*"
)
ABM_WORDS = (
    r"abm|schools?|workplaces?|offices?|households?|homes? quarantine|families|family|travel\w*|borders?|"
    r"imported|importations?|by setting|settings?|by age|age groups?|ages?|elderly|children|kids|pupils|"
    r"workers|employ\w*|teachers"
)
# The compartmental model without its exposed stage (incubation_days = 0 makes it SIR).
NO_INCUBATION = (
    r"\bsir\b|\bno (?:incubation|latent|latency|exposed)(?: period| stage| phase| compartment)?\b|"
    r"\bwithout (?:an? |any )?(?:incubation|latent|exposed)(?: period| stage| phase| compartment)?\b|"
    r"\bzero incubation\b"
)
# What makes an epidemic question need the agent-based model (ARCHITECTURE.md): a setting-specific
# intervention, results by setting or age, or the structure of the synthetic population. A setting
# named in passing ("a school town") is not enough.
ABM_REASONS = (
    r"clos\w*|shut\w*|quarantin\w*|restrict\w*|ban\w*|by setting|by age|age groups?|which ages?|"
    r"(?:infections?|cases|transmission|spread\w*|infected) (?:\w+ ){0,2}(?:in|at|within|across) (?:the )?"
    r"(?:schools?|households?|homes?|workplaces?|work|offices?|settings?)|where (?:do|does|are|is) (?:\w+ ){0,3}"
    r"(?:infect\w*|transmi\w*|happen\w*)|household size|people per household|pupils|school size|workplace size|"
    r"imported|importations?|travel\w*|borders?|children|kids|elderly|older people|teachers|employ\w*"
)
SEIR_WORDS = r"seir|sir|compartmental|ode|well[- ]mixed|mass[- ]action"
DELIVERY_WORDS = (
    r"deliver\w*|couriers?|orders?|restaurants?|food|meals?|kitchens?|dispatch\w*|batch\w*|sla|late|"
    r"last[- ]mile|fleet|shifts?|prep\w*|p90|p50|takeaway|take-away|e-?commerce|utiliz\w*|customers?|demand"
)
# Words that suggest delivery only when nothing else names a system ("what if speed doubles?").
DELIVERY_WEAK_WORDS = r"speeds?|km/h|e-?bikes?|bikes?|bicycles?|scooters?|mopeds?|cyclists?|cycling"

# Words only a question about the model's own system uses. A question whose only model cues are
# generic ("customers arriving", "spreads") and that names another system (OTHER_SYSTEMS) is out of scope.
CORE_WORDS = {
    "seir": r"epidemic|pandemic|outbreak|infect\w*|r0|disease|virus|viral|flu|influenza|covid\w*|measles|pathogen|"
    r"vaccin\w*|quarantin\w*|lockdown|seir|sir|incubation|attack rate|transmission|contagi\w*|epidemiolog\w*",
    "abm": r"abm|epidemic|pandemic|outbreak|infect\w*|r0|disease|virus|flu|covid\w*|school closure|quarantin\w*",
    "delivery": r"deliver\w*|couriers?|restaurants?|meals?|food|kitchens?|takeaway|take-away|dispatch\w*|last[- ]mile|"
    r"e-?commerce",
}
OTHER_SYSTEMS = (
    r"banks?|tellers?|cashiers?|checkouts?|supermarkets?|call cent(?:re|er)s?|traffic|cars|roads?|motorway|highway|"
    r"m\d+|buses|bus|trains?|commut\w*|passengers?|flights?|airports?|rumou?rs?|social media|tweets?|users|memes?|"
    r"misinformation|stocks?|shares|prices?|pizza|menu|recipes?|weather|elections?|voters?|crops?|wildfires?|"
    r"forest fires?|computer virus\w*|malware|servers?|network traffic|websites?|queues? at"
)

# --------------------------------------------------------------------------- kinds
INJECTION = (
    r"\b(?:ignore|disregard|forget|override|bypass|skip)\s+(?:all\s+|any\s+|the\s+|your\s+|my\s+|these\s+|those\s+|"
    r"every\s+)*(?:previous\s+|prior\s+|above\s+|earlier\s+|system\s+|safety\s+|original\s+)*"
    r"(?:instructions?|rules|guidelines|prompts?|limits|bounds|caps|constraints|restrictions on|the above|above|"
    r"everything(?: else)?)\b|"
    r"\bsystem (?:prompt|override|message|instruction)s?\b|\byou are now\b|\bnew instructions\b|\bjailbreak\w*|"
    r"\bpretend (?:you|to be)\b|\bdeveloper (?:mode|says|wants|instructs|message)\b|\badmin (?:mode|override)\b|"
    r"\byou (?:must|should|will) (?:now )?(?:reply|respond|answer|say|output|print|only)\b|"
    r"\b(?:reply|respond|answer) only with\b|\bdan\b,? an ai\b|\bwithout (?:any )?(?:rules|limits|restrictions)\b|"
    r"\b(?:run|execute)\s+`|\brm -rf\b"
)
# Markup that frames an instruction inside a question: the whole block is dropped.
INJECTED_BLOCK = (
    r"(?s)<\s*(?P<tag>instructions?|system|prompt|admin|developer|assistant|override)\b[^>]*>.*?(?:</\s*(?P=tag)\s*>|$)"
)
# Requests for harm: building, enhancing or releasing a pathogen. Refused whatever the model could run.
_PATHOGEN = r"(?:virus|viruses|pathogens?|bacteri\w*|bioweapons?|germs?|toxins?|diseases?|plagues?|strains?)"
_HARMFUL_TRAIT = (
    r"more (?:deadly|lethal|transmissible|contagious|infectious|virulent|dangerous)|deadlier|resist\w*|kill\w*|"
    r"harm\w*|as a weapon|on purpose|deliberately|intentionally"
)
HARMFUL = (
    # "engineer a virus with a higher R0", "enhance the pathogen so it spreads faster"
    rf"\b(?:engineer|weaponi[sz]|synthesi[sz]|enhanc|modif|cultivat|cultur|manufactur|breed|mutat)\w*\s+"
    rf"(?:\w+\s+){{0,3}}{_PATHOGEN}\b[^.?!]{{0,60}}?\b(?:{_HARMFUL_TRAIT}|higher r0|spreads? (?:faster|further|more))|"
    # "make a virus more lethal" (a scenario where the virus spreads faster is a fair what-if)
    rf"\b(?:mak|creat|build|design|produc|develop)\w*\s+(?:\w+\s+){{0,3}}{_PATHOGEN}\b[^.?!]{{0,30}}?\b"
    rf"(?:{_HARMFUL_TRAIT})|"
    rf"\bbio ?weapons?\b|\bbioterror\w*|\bgain[- ]of[- ]function\b|\breleas\w* (?:a |the |an )?(?:\w+ )?{_PATHOGEN}\b|"
    r"\b(?:infect|poison|harm|kill)\w* (?:people|others|a (?:city|town|population)|as many)\b[^.?!]{0,30}?"
    r"\b(?:on purpose|deliberately|intentionally|without them knowing)\b|"
    r"\b(?:deliberately|intentionally|on purpose) (?:infect|spread|release)\w*"
)
EXPLAIN_START = (
    r"^(?:why\b|explain\b|describe\b|where (?:does|do|did|is|are)\b.*\b(?:come from|from|defined|documented)\b|"
    r"tell me (?:about|how|why|what)|how (?:does|do|is|are|did|would)\b.*"
    r"\b(?:work|modell?ed|computed|calculated|defined|treated|represented|handled|simulated|measured|chosen|used|"
    r"implemented|differ|pick|choose|assign|decide|dispatch|compute|calculate|treat|represent|model|simulate|"
    r"account for|deal with|handle|spread|assume|generated|created|built|made|set up|assigned|formed|drawn|sampled|"
    r"initiali[sz]ed|seeded|determined|estimated|structured|scheduled|placed|matched|routed)\b|what (?:does|do) [^?]*\b(?:mean|do|control|represent|measure|stand for)\s*\??$|what is meant|what(?:'s| is| are) the (?:difference|"
    r"assumptions?|limitations?|parameters?|meaning|definition)|what (?:are|is) (?:the )?(?:model|models)\b|"
    r"which (?:parameters|interventions|metrics|models)\b|how come\b|what (?:assumptions|limitations))"
)
EXPLAIN_ANYWHERE = (
    r"\b(?:explain|meaning of|definition of|what does \S+ mean|assum\w*|limitations?|how does the model|"
    r"how the model|model work|why does|why do|why is|why are|does \S+ mean|what (?:is|are) \S+ exactly|"
    r"what exactly (?:is|are|does)|come from|comes from|based on what|source (?:of|for) (?:the|that|this)|"
    r"how (?:is|are) \S+(?: \S+)? (?:split|divided|distributed|allocated|shared|weighted|apportioned))\b"
)
# A change with no amount ("more couriers", "lower the R0 a bit"): ask how much, do not guess.
VAGUE_CHANGE = (
    r"\b(?:more|fewer|less|extra|additional|higher|lower|bigger|smaller|larger|faster|slower|shorter|longer|"
    r"increas\w*|decreas\w*|rais\w*|reduc\w*|cut\w*|boost\w*|add\w*)\s+(?:the |our |some |a few |a bit of )?"
    r"(?P<name>[a-z0-9_]+(?: [a-z0-9_]+)?)|\b(?:a bit|a little|slightly|somewhat|a few|some more)\b"
)
COMPARE_CUES = (
    r"\bvs\.?\b|\bversus\b|\bcompared? (?:to|with|against)\b|\bcompar(?:e|ing|ison)\b|"
    r"\bhow (?:much|many) (?:lower|higher|more|less|fewer|smaller|bigger|larger|earlier|later|shorter|longer|"
    r"faster|slower|better|worse|sooner)\b|\bdifference\b|\bdiffer\b|\b(?:effect|impact|benefit|value) of\b|"
    r"\bby how much\b|\bhow much (?:does|do|would|will|could|can|is|are) .* (?:reduce|lower|cut|change|delay|improve|"
    r"help|increase|raise|flatten|shift|affect|save|prevent|rise|fall|drop|grow|go up|go down|worsen|shorten|"
    r"lengthen)\w*\b|\b(?:prevent|avert|save|avoid)(?:s|ed)?\b|\bthan (?:without|with no|doing nothing|no\b|"
    r"not)|\brelative to\b|\binstead of\b|\brather than\b|\bdoing nothing\b|\bno interventions?\b|"
    r"\b(?:better|worse|more effective|less effective|stronger|weaker) than\b|\bwhich (?:is|works|helps|one|of|gives|"
    r"option|strategy|policy|intervention|measure|lowers|reduces|cuts|has|would|will|leads|produces|keeps|does)\b|"
    r"\bbeats?\b|\boutperforms?\b|\b(?:is it|would it be|is) (?:better|worse|more effective)\b|"
    r"\bwithout (?:any |the )?(?:interventions?|measures|action|it|them|restrictions)\b|\bagainst (?:a |the )?"
    r"baseline\b|\bmake a difference\b|\bworth it\b|\bdoes (?:it|that|this) help\b|\bhow many (?:infections|"
    r"cases|people|orders|deliveries) (?:would|could|does|do|will|are|is) (?:be )?(?:prevented|averted|saved)\b|"
    r"\b(?:prevent|avert|save)s? how many\b|\bchange (?:in|to) the\b|\bdelay the peak\b|\bflatten\b|"
    r"\bhow (?:does|do|would|will|did|much does|much would) (?:the |our |that |this )?[a-z0-9_]+(?: [a-z0-9_]+)? "
    r"(?:change|move|shift|respond|react)\b"
)
# Words that state the present value of something a question then changes ("currently 200 orders an
# hour", "prep is 20 min now"): the change is compared against it.
CURRENT_STATE = r"\b(?:currently|at present|at the moment|right now|today|now|as things stand|at the minute)\b"
# A change from one value to another ("doubling couriers from 30 to 60", "cutting prep from 20 to 10
# minutes"): two scenarios to compare, not a range to sweep.
CHANGE_FROM = (
    r"\b(?:doubl|tripl|halv|increas|rais|grow|cut|reduc|lower|decreas|drop|switch|chang|mov|upgrad|expand|shrink|"
    r"bump|boost|add|hir|scal)\w*\s+(?!as\b|when\b|if\b|while\b)(?:[a-z0-9_/]+\s+){0,3}from\s+$|"
    r"\b(?:we|i|you|they) (?:go|went|move|moved|get|got)\s+(?:[a-z0-9_/]+\s+){0,2}from\s+$"
)
SWEEP_CUES = (
    r"\bsweep\b|\bvary(?:ing)?\b|\brange of\b|\bfor (?:each|every|different|various)\b|\bin steps? of\b|"
    r"\bstep(?:s|size)? of\b|\bacross (?:values|a range)\b|\bas a function of\b|\bhow does .* (?:change|vary|"
    r"depend)\b|\bsensitiv\w*\b|\bfrom \S+ (?:up )?to \S+\b"
)
CALIBRATE_CUES = (
    r"\b(?:what|which) (?!if\b|happens\b|would happen\b)(?:value of |level of |size of |number of )?(?:the )?(?P<what>[a-z0-9_ /]{1,40}?) "
    r"(?:would|will|do|does|is|are|should|must|could|can|gives?|makes?|produces?|yields?|leads?|results?|"
    r"reproduces?|matches|keeps?|brings?|needed|required|necessary|needs?|to)\b|"
    r"\bhow (?:many|much|high|low|large|big|small|fast|slow|long|short|quick|quickly|few|strong|strict|"
    r"effective|tough|hard|tight|widespread|early|soon|late|soon) (?P<how>[a-z0-9_ /]{0,40}?)"
    r"\b(?:do|does|would|will|should|must|can|could|is|are|need|needed|to|so|before|until|keeps?|gives?|for|if (?:we|i|you|they) (?:want|need|aim|must|have to))\b|"
    r"\b(?:minimum|maximum|min|max|fewest|least|most|largest|smallest|highest|lowest|biggest|optimal|right) "
    r"(?:number of |value of |level of |)(?P<ext>[a-z0-9_ /]{1,40}?) (?:that|to|so|which|for|needed|required|"
    r"we|i|can|could|would|keeps?|gives?|such|where|at which|before)\b|"
    r"\bcalibrat\w*|\bfit (?:the )?(?P<fit>[a-z0-9_]+)|\bfind (?:the )?(?P<find>[a-z0-9_ ]{1,30}?) "
    r"(?:that|which|so|to|for|at which|where|giving|producing|such)\b|"
    r"^(?:the )?(?P<need>[a-z0-9_]+(?: [a-z0-9_]+)?) (?:needed|required|necessary) (?:for|to|so)\b"
)
CALIBRATE_PURPOSE = (
    r"\bso (?:that|as)\b|\bsuch that\b|\bto (?:keep|get|reach|achieve|bring|hold|hit|stay|have|ensure|make|"
    r"give|produce|match|reproduce|see|meet)\b|\b(?:would|will|to|does|do|could|can) (?:give|produce|yield|"
    r"lead to|result in|reproduce|match|explain|cause|keep|bring|make|get)\b|\b(?:gives?|produces?|yields?|"
    r"reproduces?|matches|keeps?|makes?|brings?|needed|required|necessary|need|needs) \b|\bif we want\b|"
    r"\bin order\b|\bbefore\b|\buntil\b|\bcalibrat|\bfit\b|\bobserved\b|\bwe saw\b|\bwe observed\b|"
    r"\bwould (?:push|drive|raise|lower|cause|tip|bring|keep|make|give|get|put|take)\b|\b(?:serve|handle|cope with|"
    r"leads? to|results? in|causes?|exceeds?|reach(?:es)?|hits?|cross(?:es)?|surpass(?:es)?|go(?:es)? (?:above|over|"
    r"below|under)|drops? below|falls? below|stays? (?:below|under|above)|"
    r"sustain|manage|absorb)\b|"
    r"\bcan (?:we|i|they) (?:handle|serve|cope|take|sustain|support)\b|\bhandle\b|\bat which\b|"
    r"\b(?:can|could) (?:\w+ )?(?:take|handle|serve|manage|cope with|absorb|sustain|process|deliver)\b|"
    r"\b(?:with|for|and) (?:the |a |an |our )?[a-z0-9_ ]{1,30}? (?:under|below|over|above|at most|at least|less than|"
    r"more than|within|no more than)\b|"
    r"\bfor (?:the |a |an |our )?[a-z0-9_ ]{1,30}? to (?:be|stay|reach|fall|drop|get|hit|remain|come|go|exceed|match|"
    r"equal|land|occur|happen|arrive)\b"
)

# Requests that are not questions about a simulation at all.
OFF_TASK = (
    r"\b(?:write|compose|draft|generate)\b.*\b(?:poem|story|essay|email|letter|song|joke|code|script|haiku|limerick)\b|"
    r"\btell me a (?:joke|story)\b|\btranslate (?:this|that|into)\b|"
    r"\b(?:execute|eval|run) (?:this|the following|my|some) (?:python|code|script|command|shell)\b|"
    r"\bimport os\b|\bos\.system\b|\bsubprocess\b|/etc/passwd|\bprint (?:your|the) (?:system )?prompt\b"
)

# Outputs no built-in model computes: asking for them is out of scope, not a run of something else.
UNSUPPORTED_OUTPUTS = (
    r"\b(?:hospital\w*|icu|intensive care|beds?|deaths?|die|dies|died|dying|death toll|mortality|fatal\w*|"
    r"lives lost|killed|ventilators?|"
    r"economic|economy|gdp|costs?|revenue|profits?|tips|wages?|salar\w*|emissions|fuel|shares|stocks?|invest\w*|"
    r"inflation|stock market)\b"
)
# What each unsupported output is called in an answer ("die" -> "deaths"), first match wins.
UNSUPPORTED_OUTPUT_NOUNS: tuple[tuple[str, str], ...] = (
    (r"hospital\w*|beds?", "hospital admissions or beds"),
    (r"icu|intensive care|ventilators?", "intensive care (ICU) use"),
    (r"deaths?|die|dies|died|dying|death toll|mortality|fatal\w*|lives lost|killed", "deaths"),
    (r"gdp", "GDP or other economic effects"),
    (r"economic|economy|inflation", "economic effects"),
    (r"costs?", "costs"),
    (r"revenue|profits?", "revenue or profit"),
    (r"tips|wages?|salar\w*", "pay (wages or tips)"),
    (r"emissions|fuel", "emissions or fuel use"),
    (r"shares|stocks?|invest\w*|stock market", "financial markets"),
)

# Questions with no model cue made only of these words are vague: ask which system is meant.
VAGUE_WORDS = frozenset(
    [
        "what",
        "whats",
        "happens",
        "happen",
        "would",
        "will",
        "if",
        "we",
        "i",
        "you",
        "they",
        "it",
        "its",
        "is",
        "are",
        "be",
        "bad",
        "good",
        "worse",
        "better",
        "things",
        "thing",
        "stuff",
        "everything",
        "something",
        "close",
        "open",
        "shut",
        "more",
        "less",
        "do",
        "does",
        "did",
        "the",
        "a",
        "an",
        "this",
        "that",
        "these",
        "those",
        "about",
        "how",
        "much",
        "many",
        "so",
        "then",
        "now",
        "measures",
        "restrictions",
        "rules",
        "policy",
        "policies",
        "act",
        "action",
        "actions",
        "change",
        "changes",
        "should",
        "ok",
        "okay",
        "no",
        "with",
        "without",
        "them",
        "they",
        "those",
        "next",
        "week",
        "weeks",
        "day",
        "days",
        "month",
        "months",
        "time",
        "later",
        "earlier",
        "instead",
        "also",
        "again",
        "too",
        "tomorrow",
        "interventions",
        "intervention",
        "baseline",
        "default",
        "scenarios",
        "nothing",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "can",
        "could",
        "hmm",
        "help",
        "result",
        "results",
        "outcome",
        "look",
        "looks",
        "like",
        "going",
        "get",
        "gets",
        "too",
        "very",
        "really",
        "any",
        "some",
        "run",
        "simulate",
        "simulation",
        "model",
        "scenario",
        "tell",
        "me",
        "us",
        "please",
        "try",
        "again",
        "worth",
        "why",
        "when",
        "where",
        "which",
        "who",
        "up",
        "down",
        "numbers",
        "number",
        "there",
        "here",
        "mean",
        "means",
        "enough",
        "sufficient",
        "bigger",
        "smaller",
        "larger",
        "higher",
        "lower",
        "faster",
        "slower",
        "longer",
        "shorter",
        "cut",
        "half",
        "halve",
        "double",
        "twice",
        "option",
        "options",
        "alternative",
        "alternatives",
        "compare",
        "comparison",
        "both",
        "either",
        "one",
        "ones",
        "but",
        "rerun",
        "bit",
        "little",
        "lot",
        "all",
        "other",
        "same",
        "previous",
        "last",
        "first",
        "second",
        "bad",
        "worst",
        "best",
        "big",
        "small",
        "get",
        "got",
        "make",
        "happened",
        "see",
        "show",
        "sooner",
        "differently",
        "stronger",
        "weaker",
        "harder",
        "softer",
        "quicker",
        "happen",
        "wait",
        "reduce",
        "increase",
        "decrease",
        "raise",
        "stop",
        "start",
        "add",
        "remove",
        "improve",
        "fix",
        "tweak",
        "adjust",
    ]
)
OUT_OF_SCOPE_HINT = (
    "the models cover epidemics in a population (seir: compartmental; abm: agent-based, with schools, "
    "workplaces, households and travel) and last-mile meal delivery (delivery: orders, couriers, delivery "
    "times)"
)


# --------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class ParamCue:
    """How a parameter is named, which quantity units it takes, and how to convert them.

    names: a regex naming the parameter, matched right before the number ("r0 of 2.5") or, if
      `after` is set, right after it ("2.5 days incubation").
    units: the quantity units it accepts (None = a bare number).
    convert: "count" (int), "float", "fraction" (percent -> /100), "days", "minutes", "hours".
    """

    param: str
    names: str
    units: tuple[str | None, ...]
    convert: str
    after: str | None = None


_DAYS = (None, "day", "week", "month", "year")
# Every model's run controls, as people name them: "with 50 replicates", "seed 7".
RUN_CONTROL: tuple[ParamCue, ...] = (
    ParamCue(
        "replicates",
        r"replicates?|realisations?|realizations?|repetitions?|runs?",
        (None,),
        "count",
        after=r"(?:replicates?|realisations?|realizations?|repetitions?|stochastic runs|runs|times|simulations)",
    ),
    ParamCue("seed", r"(?:random )?seed", (None,), "count"),
)
EPIDEMIC_PARAMS: tuple[ParamCue, ...] = (
    ParamCue(
        "r0",
        r"r0|(?:each|every|one|an?) (?:infected )?(?:case|person|infection|patient)s? infects?",
        (None, "x"),
        "float",
        after=r"r0|(?:others|other people|people|persons|more people)\b(?! a day)",
    ),
    ParamCue(
        "incubation_days",
        r"incubation(?: period| time)?|latent(?: period)?|latency|exposed period",
        _DAYS,
        "days",
        after=r"(?:of )?(?:incubation|latent|latency)",
    ),
    ParamCue(
        "infectious_days",
        r"infectious(?: period| duration)?|contagious(?: period)?|infectiousness|recovery(?: time| period)?|"
        r"recover(?:s|y)? (?:after|in|within)|ill|sick|duration of infection|infectious for|stay infectious",
        _DAYS,
        "days",
        after=r"(?:of )?(?:infectious|being infectious|contagious|infectiousness)",
    ),
    ParamCue(
        "initial_infected",
        r"initial(?:ly)?(?: number of)? (?:infected|infections|cases|infectious)(?: people| persons)?|seed(?:ed)? (?:cases|infections)|"
        r"index cases|start(?:ing|s)? (?:with|from)|imported cases|patient zero|seeded with|initial seeds?",
        (None, "people"),
        "count",
        after=r"(?:people |persons |agents |cases )?(?:are |were |being |already |get )*(?:initial(?:ly)?|infected (?:at|on|from) (?:the )?(?:start|day 0|"
        r"beginning)|seed|index|starting|initial cases|cases at the start|infections at the start|"
        r"infectious (?:at|on) (?:the )?(?:start|day 0)|(?:cases|infections|infected) to start)",
    ),
    ParamCue(
        "population",
        r"population(?: size)?|pop|people|residents|inhabitants|town|city|village|community|country|region|"
        r"state|agents|persons|individuals|size",
        (None, "people"),
        "count",
        after=r"(?:people|persons|residents|inhabitants|individuals|agents|population|pop|citizens|souls|"
        r"(?:-?person |-?people |strong )?(?:town|city|village|community|country|region|metropolis|county))\b",
    ),
    ParamCue(
        "days",
        r"(?:simulat\w*|run\w*|horizon|model\w*|over|across|time horizon|duration|length)(?: (?:it|for|of|the|"
        r"epidemic|outbreak|simulation|period))*",
        ("day", "week", "month", "year"),
        "days",
    ),
    *RUN_CONTROL,
)
# Population-structure parameters of the agent-based model, as people name them.
ABM_PARAMS: tuple[ParamCue, ...] = (
    ParamCue(
        "imported_per_day",
        r"imported(?: cases| infections)?(?: per day| a day| daily)?|importations?(?: per day| a day)?|"
        r"imports?(?: per day| a day)?|introductions?(?: per day| a day)?",
        (None, "people"),
        "float",
        after=r"(?:new )?(?:imported|importations?|imports?|introductions?|infections? imported|cases? imported)"
        r"(?: cases| infections)?(?: (?:a|per|each|every) day| daily)?|(?:cases?|infections?) (?:are |get )?"
        r"(?:imported|brought in|arriving from outside)",
    ),
    ParamCue(
        "mean_household_size",
        r"(?:mean |average )?household size|households? (?:of|with|average|averaging)|"
        r"(?:people|persons) (?:per|in each|in an average) household",
        (None, "people"),
        "float",
        after=r"(?:people |persons )?(?:per|in each|in every|in an average|in a) household|-?(?:person|people) households?",
    ),
    ParamCue(
        "school_size",
        r"school size|schools? (?:of|with|have|has|hold)|(?:pupils|students|children|kids) per school",
        (None, "people"),
        "count",
        after=r"(?:pupils|students|children|kids)(?: (?:each|per school|in each school|a school))?",
    ),
    ParamCue(
        "workplace_size",
        r"workplace size|workplaces? (?:of|with|have|has)|(?:workers|employees|staff|people) per workplace",
        (None, "people"),
        "float",
        after=r"(?:workers|employees|staff|people) (?:per|in each|in every|in a) (?:workplace|office|business)",
    ),
)
DELIVERY_PARAMS: tuple[ParamCue, ...] = (
    ParamCue(
        "couriers",
        r"couriers|fleet(?: size)?|fleet of|staff(?:ing)?|number of couriers|headcount",
        (None, "courier"),
        "count",
        after=r"couriers",
    ),
    ParamCue(
        "orders_per_hour",
        r"orders(?: per hour| an hour| a hour| hourly|/h(?:our)?)?|demand(?: of)?|order rate|arrival rate|"
        r"orders per hour|order volume",
        (None, "order"),
        "float",
        after=r"orders(?! a day| per day| daily)",
    ),
    ParamCue(
        "hours",
        r"shift(?: length| of)?|hours? shift|over|open(?: for)?|for",
        ("hour",),
        "hours",
        after=r"(?:-hour |hours? )?(?:long )?(?:shifts?|(?:lunch |dinner |evening |morning )?rush|service|window|"
        r"day|evening|night|session|period|operation|trading day)",
    ),
    ParamCue(
        "prep_minutes",
        r"prep(?:aration)?(?: time)?|cook(?:ing)? time|kitchen(?: time)?|food (?:is ready|takes)|"
        r"(?:restaurants?|kitchens?|cooks?|chefs?) (?:take|need|require|spend|use)s?|takes? restaurants|"
        r"(?:food|meals?|orders?|each order) (?:takes?|needs?|requires?) (?:\w+ )?(?:to (?:prepare|cook|make) )?",
        (None, "minute", "hour"),
        "minutes",
        after=r"(?:of )?(?:prep|preparation|cooking|to prepare|kitchen)",
    ),
    ParamCue(
        "speed_kmh",
        r"speed|travel(?: at)?|ride(?: at)?|average speed|move at|go at|drive at|cycle at",
        (None, "km/h"),
        "float",
    ),
    ParamCue(
        "city_km",
        r"city(?: size)?|area|zone|square|region|district|side(?: length)?|across|grid",
        ("km",),
        "float",
        after=r"(?:by \S+ )?(?:km )?(?:city|area|zone|square|side|grid|wide|across)",
    ),
    ParamCue(
        "max_batch",
        r"batch(?:es|ing)?(?: size)?(?: of)?(?: up to)?|carr(?:y|ies|ying)(?: up to)?|max(?:imum)? batch|up to|bundle",
        (None, "order"),
        "count",
        after=r"(?:orders? )?(?:per (?:trip|batch|courier at once|run|bag|box)|at (?:a|one) time|"
        r"at once|batch|each(?! (?:hour|day|minute|week|month)))",
    ),
    ParamCue(
        "sla_minutes",
        r"sla|promise(?:d)?(?: time)?|deadline|guarantee|target(?: time)?|on time means|late (?:after|beyond|if "
        r"over)|counts? as late after",
        (None, "minute", "hour"),
        "minutes",
        after=r"(?:-minute |minute |-hour |hour )?(?:delivery |delivery time |on-time |on time )?"
        r"(?:sla|promise|guarantee|deadline|target|window)",
    ),
    *RUN_CONTROL,
)
# Words a bare number may sit between and its parameter's name: "r0 of about 2.5", "population is 10k".
CONNECTORS = (
    r"(?:of|is|=|:|to|at|about|around|roughly|approximately|approx|~|equal to|equals|set to|be|was|were|becomes|"
    r"goes up to|goes to|rises to|increases to|falls to|drops to|reduced to|increased to|changed to|as|with|an|a|"
    r"the|only|just|now|instead|has|having|have|had|value of|numbering|totalling|totaling|size of|rate of|"
    r"time of|period of|lasting|up to|for|takes|take|took|in|on|in total|total|per|we have|there are|of just|"
    r"of only|set|s|'s|being|are|stays?|remains?|in a|in the|then|sits at|still|if there are|if we have|"
    r"come in at|comes in at|coming in at|arrive at|arriving at|at a rate of|we get|we got|get|gets|"
    r"averag(?:e|es|ing)|on average|usually|typically|normally|fixed at|held at|kept at|constant at|fixed to)"
)


# --------------------------------------------------------------------------- interventions
@dataclass(frozen=True)
class InterventionCue:
    """How an intervention is named, and which of its fields a nearby percent or fraction sets."""

    type: str
    names: str
    strength: str | None


INTERVENTIONS: tuple[InterventionCue, ...] = (
    InterventionCue(
        "school_closure",
        r"(?:clos\w*|shut\w*|shutting) (?:(?:all|the|down|our|of|every|each|local|public|primary|secondary|"
        r"high|most|some|its|their) )*(?:schools?|the schools|classrooms?)|"
        r"schools? (?:closures?|closed|shut\w*|closing|holidays?|break)|(?:no|without) schools?|"
        r"schools? (?:are |were |will |would |stay |remain |get |being |must |should |need to |have to |to )*"
        r"(?:be )?(?:clos\w*|shut\w*)|"
        r"keep(?:ing)? (?:the )?schools? (?:closed|shut)|(?:schools?|classes) (?:go |move |switch )?(?:online|remote)",
        None,
    ),
    InterventionCue(
        "workplace_closure",
        r"(?:clos\w*|shut\w*|shutting) (?:(?:all|the|down|our|some|of|non-essential) )*(?:\S+ ){0,2}(?:of )?(?:the )?"
        r"(?:workplaces?|offices?|businesses|work ?places?|factories)|(?:workplaces?|offices?|businesses|factories) "
        r"(?:are |were |will |would |stay |remain |get |being |must |should |need to |have to |to )*(?:be )?"
        r"(?:closures?|clos\w*|shut\w*)|workplace closures?|"
        r"close (?:\S+ )?(?:of )?workplaces",
        "fraction",
    ),
    InterventionCue(
        "household_quarantine",
        r"household quarantine|quarantin\w* (?:(?:the|whole|entire|their|of) )*(?:households?|famil\w+|homes?)|"
        r"households? (?:of cases )?(?:quarantin\w*|stay(?:s|ing)? (?:at )?home|isolat\w*)|"
        r"(?:household|family|home) (?:isolation|quarantine)|quarantin\w* (?:contacts|housemates)",
        "compliance",
    ),
    InterventionCue(
        "travel_restriction",
        r"travel (?:restrictions?|bans?|limits?|curbs?)|(?:restrict\w*|ban\w*|limit\w*|curb\w*|stop\w*|cut\w*|reduc\w*) "
        r"(?:all |the )?(?:travel|imports?|importations?|imported (?:cases|infections)|arrivals|flights)|"
        r"(?:clos\w*|shut\w*) (?:the )?borders?|border (?:closures?|controls?|restrictions?)",
        "effectiveness",
    ),
    InterventionCue(
        "case_isolation",
        r"(?:case|cases) isolat\w*|isolat\w* (?:\S+ )?(?:(?:the|of|all|sick|symptomatic|infected|detected|positive|"
        r"infectious) )*(?:cases|patients|infected|sick|people)|self isolat\w*|cases (?:self[- ]?)?isolat\w*|"
        r"(?:test|testing) and isolat\w*|isolation of cases|isolation|isolate|quarantin\w* (?:cases|the sick|"
        r"infected)|isolating",
        "compliance",
    ),
    InterventionCue(
        "vaccination",
        r"vaccinat\w*|vaccines?|vaccination campaign|immunization|immunisation",
        "daily_rate",
    ),
    InterventionCue(
        "contact_reduction",
        r"lockdown|distancing|contact reduction|(?:reduc\w*|cut\w*|lower\w*|halv\w*|decreas\w*|limit\w*|fewer|"
        r"less|drop\w*) (?:(?:all|the|our|social|daily|people's|peoples|transmission|of|by|in) )*"
        r"(?:contacts?|mixing|interactions?|transmission|contact rates?)|(?:contacts?|mixing|transmission) "
        r"(?:reduction|(?:are |is )?(?:cut|reduced|halved|lowered|drop\w*|fall\w*))|masks?|mask[- ]wearing|"
        r"face coverings?|restrictions|curfews?|circuit[- ]breakers?",
        "effectiveness",
    ),
)
INTERVENTION_STRENGTH_WORDS = {
    "effectiveness": r"effective\w*|efficacy|strength|strict\w*",
    "compliance": r"complian\w*|comply\w*|adherence|uptake|of (?:cases|households|people)",
    "fraction": r"of (?:the |all )?(?:workplaces?|offices?|businesses)|fraction|share",
}


# --------------------------------------------------------------------------- metrics
@dataclass(frozen=True)
class MetricCue:
    metric: str
    names: str
    share: bool  # a share (percent -> fraction)
    small_is_good: bool = True


EPIDEMIC_METRICS: tuple[MetricCue, ...] = (
    MetricCue(
        "peak_day",
        r"peak day|day of (?:the )?peak|peak (?:on|by|at|after|before|around) day|peaks? (?:comes|"
        r"occurs|happens|arrives|is reached|falls)|peak timing|timing of the peak|peak(?:s)? (?:on|by|at|"
        r"after|before) day|when (?:does|do|will|would) (?:the )?(?:epidemic |outbreak )?peak",
        False,
        False,
    ),
    MetricCue(
        "attack_rate",
        r"attack rate|share (?:of (?:people|the population) )?(?:ever )?infected|fraction "
        r"(?:ever )?infected|proportion (?:ever )?infected|(?:of|the) (?:population|people|town|city) "
        r"(?:gets? |ever |being |becomes? )?infected|infected share|(?:% )?(?:of people )?(?:get|gets|ever) "
        r"infected|infect \S+ of",
        True,
    ),
    MetricCue(
        "peak_infected",
        r"peak(?: number of)?(?: infect\w*| cases| prevalence| infectious| load)?|"
        r"(?:infected|infectious|sick|ill) at (?:once|the same time|the peak)|simultaneous(?:ly)? "
        r"(?:infect\w*|cases)|maximum (?:number )?(?:of )?(?:infect\w*|cases)|highest number of (?:infect\w*|"
        r"cases)",
        False,
    ),
    MetricCue(
        "total_infected",
        r"total(?: number of)? (?:infect\w*|cases)|(?:infections|cases) in total|"
        r"cumulative (?:infect\w*|cases)|people (?:ever )?infected|number (?:of people )?infected|"
        r"how many (?:people )?(?:get |are |become )?infected|infections",
        False,
    ),
)
DELIVERY_METRICS: tuple[MetricCue, ...] = (
    MetricCue("p90_minutes", r"p90(?: delivery)?(?: time)?|90 ?% of (?:orders|deliveries)|(?:worst|slowest) 10", False),
    MetricCue(
        "p50_minutes",
        r"p50(?: delivery)?(?: time)?|typical (?:delivery )?time|average (?:delivery )?time|"
        r"mean (?:delivery )?time|delivery times?|deliver(?:y|ies) take|half (?:of )?(?:the )?orders",
        False,
    ),
    MetricCue(
        "late_rate",
        r"late(?: rate| deliveries| orders| share)?|lateness|(?:miss\w*|breach\w*|over) (?:the )?"
        r"(?:sla|promise|deadline)|on[- ]time",
        True,
    ),
    MetricCue("utilization", r"utiliz\w*|busy|occupancy|idle", True, False),
    MetricCue("delivered", r"delivered|throughput|completed orders|orders completed", False, False),
)

# Comparative words that name the parameter they change: "20% faster", "10% more transmissible".
COMPARATIVES = {
    "faster": "speed_kmh",
    "slower": "speed_kmh",
    "quicker": "speed_kmh",
    "busier": "orders_per_hour",
    "transmissible": "r0",
    "infectious": "r0",
    "contagious": "r0",
    "larger": "population",
    "bigger": "population",
}

# Search bounds for calibration where the model's own bounds would waste runs on absurd values.
CALIBRATION_BOUNDS: dict[str, tuple[float, float]] = {
    "r0": (0.5, 10.0),
    "infectious_days": (0.5, 20.0),
    "incubation_days": (0.5, 20.0),
}

# Real words one letter away from a vocabulary word: never "corrected".
PROTECTED_WORDS = frozenset(
    [
        "minus",
        "negative",
        "transmissible",
        "transmissibility",
        "infectiousness",
        "contagiousness",
        "deadlier",
        "point",
        "points",
        "works",
        "worked",
        "working",
        "borders",
        "border",
        "boarders",
        "older",
        "elder",
        "closer",
        "closes",
        "closet",
        "cases",
        "clause",
        "produce",
        "produces",
        "induce",
        "induces",
        "reduced",
        "recover",
        "recovers",
        "cover",
        "covers",
        "covered",
        "holders",
        "orderly",
        "ordered",
        "ordering",
        "months",
        "mouths",
        "shouldn",
        "peaks",
        "peaked",
        "weekly",
        "daily",
        "hourly",
        "restart",
        "minutes",
        "minute",
        "course",
        "courses",
        "courier's",
        "schooling",
        "worker",
        "workers",
        "workload",
        "delivered",
        "delivering",
        "delivers",
        "delays",
        "delayed",
        "population's",
        "vaccinated",
        "vaccines",
        "infects",
        "infecting",
        "infectivity",
        "isolated",
        "isolates",
        "quarantined",
        "people's",
        "person's",
        "closures",
        "baseline",
        "effective",
        "effects",
        "affect",
        "affects",
        "affected",
        "infer",
        "inferred",
        "increase",
        "increased",
        "decrease",
        "decreased",
        "halved",
        "doubled",
        "tripled",
        "between",
        "beyond",
        "without",
        "within",
        "whether",
        "weather",
        "throughout",
        "through",
        "thorough",
        "intervene",
        "intervened",
        "intervals",
        "interval",
        "interest",
        "internet",
        "interesting",
        "ordinary",
        "initialize",
        "initial",
        "batches",
        "batched",
        "batching",
        "speeds",
        "speedy",
        "simulated",
        "simulates",
        "simulating",
        "similar",
        "simple",
        "simply",
    ]
)

# Words that the fuzzy typo fixer may correct towards (plus every word of the tables above).
FUZZY_VOCABULARY = [
    "epidemic",
    "pandemic",
    "outbreak",
    "infection",
    "infections",
    "infected",
    "infectious",
    "incubation",
    "vaccinate",
    "vaccination",
    "vaccine",
    "quarantine",
    "isolation",
    "isolate",
    "isolating",
    "lockdown",
    "distancing",
    "school",
    "schools",
    "workplace",
    "workplaces",
    "household",
    "households",
    "travel",
    "restriction",
    "restrictions",
    "couriers",
    "courier",
    "orders",
    "order",
    "restaurants",
    "restaurant",
    "delivery",
    "deliveries",
    "population",
    "reproduction",
    "number",
    "attack",
    "rate",
    "peak",
    "percentile",
    "utilization",
    "compare",
    "versus",
    "compared",
    "baseline",
    "calibrate",
    "closure",
    "closing",
    "close",
    "closed",
    "effectiveness",
    "compliance",
    "efficacy",
    "transmission",
    "contacts",
    "minutes",
    "minute",
    "hours",
    "hour",
    "weeks",
    "week",
    "months",
    "month",
    "days",
    "people",
    "thousand",
    "million",
    "billion",
    "hundred",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "fifteen",
    "simulate",
    "simulation",
    "scenario",
    "explain",
    "average",
    "median",
    "prep",
    "preparation",
    "speed",
    "batch",
    "batches",
    "initial",
    "initially",
    "imported",
    "contagious",
    "recovery",
    "between",
    "increase",
    "decrease",
    "reduce",
    "halve",
    "double",
    "without",
    "intervention",
    "interventions",
    "infect",
    "infects",
    "others",
    "starting",
    "onwards",
    "instead",
    "through",
    "until",
]

# Common short words: never corrected themselves (too short), but the stems of longer words
# ("sorting" is "sort" + "ing", not a typo of "starting").
_COMMON_SHORT_WORDS_TEXT = """
    able ache acid act add age aged aid aim air all also and ant any ape area arm army art ask away baby back
    bad bag bake ball ban band bank bar base bat bath bay bear beat bed bee been beer beg bell belt bend best
    bet bid big bike bill bin bind bird bit bite blow blue boat body boil bold bolt bomb bond bone book boom
    boot bore born boss both bowl box boy bud bug burn bus bush busy buy cab cafe cage cake call calm came camp
    can cap car card care cart case cash cast cat cell chat chef chip city clay clip club coal coat code cold
    come cook cool cope copy cord core cost cow crew crop cry cup cure cut dad dare dark data date dawn day dead
    deal dear debt deck deep den deny desk dew did die diet dig dim dip dirt dish dock does dog done door dose
    dot down drag draw drew drop drug drum dry dual duck due dug dull dump dust duty dye each ear earn ease east
    easy eat edge egg else end era even ever exit eye face fact fade fail fair fall fame fan far farm fast fat
    fate fear fee feed feel feet fell felt few fig file fill film find fine fire firm fish fist fit five fix
    flag flat flew flow fly fog folk food foot for form fort foul four fox free from fry fuel full fun fund fur
    gain game gap gas gate gave gear get gift gig girl give glad glow goal god goes gold golf gone good grab
    gray grew grey grid grip grow gulf gum gun gut guy gym had hair half hall ham hand hang hard harm has hat
    hate have hay head heal hear heat held hell help hen her here hero hid hide high hill him hint hip hire his
    hit hog hold hole holy home hop hope horn host hot hour how hub hug huge hum hung hunt hurt hut ice idea ill
    inch ink inn into iron item jam jar jaw jet job jog join joke joy jump jury just keen keep kept key kick kid
    kill kind king kiss kit knee knew know lab lack lad lady lag laid lake land lane lap last late law lay lead
    leaf lean led left leg lend less let lid lie life lift like line link lip list lit live load loan lock log
    long look lord lose loss lost lot loud love low luck mad made mail main make male mall man many map mark
    mass mat may meal mean meat meet men menu mere mess mild mile milk mind mine miss mix mob mode mom mood moon
    mop more most move much mud mug must name nap navy near neat neck need net new news next nice nine nod none
    norm nose not note now nut oak odd odds off oil okay old once one only onto open oral our out over owe own
    pace pack pad page paid pain pair pale palm pan park part pass past pat path paw pay pea peak pen pet pick
    pie pig pile pin pink pipe pit plan play plot plug plus poll pool poor pop port pose post pot pour pray pull
    pump pure push put quit race rack rag rage raid rail rain ram ran rank rare rat rate raw ray read real rear
    red rely rent rest rice rich rid ride rig rim ring rip rise risk road rob rock rod role roll roof room root
    rope rose rot row rub rug rule run rush sad safe said sake sale salt same sand sat save saw say sea seat see
    seed seek seem seen self sell send sent set sew she ship shoe shop shot show shut shy sick side sign sin
    sing sink sip sit site six size ski skin sky slip slow sly snow sob soft soil sold sole some son song soon
    sort soul sow spa spot spy star stay step stop such suit sum sun sure swim tab tag tail take tale talk tall
    tan tank tap tape tar task tax tea team tear tell ten tend tent term test text than that the them then they
    thin this thus tide tidy tie tile till time tin tiny tip tire toe told toll ton tone too took tool top tour
    tow town toy tree trip true try tub tube tug tune turn twin two type unit upon use used user van vary vast
    very vet via view vote wage wait wake walk wall want war warm warn was wash wave wax way weak wear web wed
    week well went were west wet what when who whom why wide wife wig wild will win wind wine wing wire wise
    wish wit with won woo wood word wore work worm wrap yard yeah year yes yet you your zero zip zone zoo
"""
COMMON_SHORT_WORDS = frozenset(_COMMON_SHORT_WORDS_TEXT.split())

# Common English words (five letters or more: shorter words are never corrected). A word in this
# list, in a table above, or in a parameter, metric or intervention name or description is a real
# word and is never "corrected" towards the vocabulary ("setting" is not a typo of "starting").
_COMMON_WORDS_TEXT = """
    sorting contract contracts scholar scholars incubator incubators restaurateur restaurateurs vaccinator vaccinators
    about above absolute absolutely absorb accept acceptable accepted access according account accurate achieve
    across action actions active actual actually added adding addition additional address adequate adjust
    admission admissions admit adult adults advance advice advise affect affected afford afraid after afternoon
    afterwards again against ageing agency agent agents aggressive agree ahead aimed airport alert allow
    allowance allowed allowing almost alone along already alright although always ambulance among amongst amount
    amounts analyse analysis analyst analyze annual another answer answers anticipate anxious anybody anyhow
    anyone anything anyway anywhere apart appear apple apply approach approximate approximately april areas
    argue around arrange arrangement arrival arrivals arrive arrived arrives arriving article aside asked asking
    assess assign assistance assistant assume assumed assuming assumption attempt attend attention august
    authorities authority autumn available average avoid avoided aware awful background bakery balance based
    baseline basic basically basis beach became because become becomes becoming before beforehand began begin
    beginning begins behave behavior behaviour behind being believe below benefit benefits beside besides better
    between beyond bicycle bicycles bigger biggest bikes billion birth black blame block blood board booster
    border borders bottleneck bottom bought bound boundary brain branch break breaks brief briefly bring brings
    broad broken brought budget build building built burden burst business buyer cabinet cafes calculate
    calculated calculation calendar called calling calls campaign cannot capacity capital capped capture careful
    carefully careless carried carriers carry carrying cases catch catering cause caused causes causing cautious
    cautiously ceased ceiling center central centre certain certainly chain chair challenge chance chances
    change changed changes changing channel chart cheap cheaper check checked checking cheese chicken chief
    child childhood children choice choose choosing chose chosen church cinema cities citizen citizens citywide
    civil claim claims class classes classic classroom clean clear clearly client clients climate clinic clock
    close closed closely closer closest closing closures cloud clusters coach coast coffee cohort collapse
    colleague collect college color colour combine combined comes comfort coming common community commute
    commuters commuting company compare compared comparing comparison complete completely complex compliance
    comply compute computed concern concerned concert concerts condition conditions confirm confirmed congestion
    connect consider considered considering constant contact contacts contagion contain content context continue
    continues control controlled controls convert copies corner correct correctly could couldn council count
    counted counter counting countries country county couple courier couriers course court cover covered crash
    crazy create created creating crisis critical cross crowd crowded crowding crowds curfew curve customer
    customers cutting cycle cycling cyclists daily damage danger dangerous dated deadline dealing dealt death
    deaths decade decide decided decision decisions decline deeper default defined definitely degree delay
    delayed delays deliberate deliveries delivery demand demands dense density depend depends deploy deployed
    describe design desired detail details detect determine develop developed device differ difference different
    differently difficult dinner direct direction directly discuss disease dispatch dispatcher distance district
    districts divide doctor doctors doesn doing dollars double doubled doubt downtown dozen draft drama drastic
    drastically drawn dream dress drink drive driven drivers driving dropped dropping during earlier earliest
    early earth easier easily eating economy effect effects efficacy effort eight either elder elderly elders
    election element elsewhere email emergency employee employees enable ended endemic ending enforce enforced
    enforcement engine enjoy enormous enough ensure enter entire entirely epidemic equal equally error escape
    especially essential estimate estimated estimates evening evenings event events eventually every everybody
    everyday everyone everything everywhere evidence exact exactly example examples excellent except expand
    expect expected expensive experience experiment explain explained exposure extend extended extent extra
    extreme extremely facility facing factor factors fails failure fairly false familiar family famous farther
    faster fastest father fault favor favour fewer field fifth fight figure figures final finally finance
    financial finding finds finish finished first fixed fleet flight floor focus follow followed following
    footfall force forced forecast forest forget formal former forward found fourth frame framework france
    freedom fresh friday friend friends front frontline fully funding further future gained games gather
    gatherings general generally generate getting given gives giving global going goods gotten government grade
    grand great greater greatest green groceries grocery ground group groups growing grown growth guess guidance
    guide habit happen happened happening happens happy haven healthcare heavy hello helped helpful helping
    hence higher highest highly hiring history holding holiday holidays honest hopefully horizon hospital hotel
    hours house houses however human hundred hungry ideal ideas identify ignore image imagine immediate
    immediately immune immunity impact important imported improve improved incidence including income increase
    increased increases increasing indeed index indicate individual indoor indoors industry infection infections
    infectious influenza inform information inoculate input inputs inside instance instead intend interest
    interested internal isolation issue issues itself joint judge kitchen knowing known label labor labour large
    largely larger largest later latest latter launch layer leader learn learned least leave leaves leaving
    leeds length lesson letter level levels light likely limit limited limits linear links listen little local
    locally location lockdown lockdowns longer longest looked looking looks loose losing lower lowest lunch
    lunchtime machine mainly major majority makes making manage managed management manager manual market masks
    massive match matter maximum maybe meals meant measles measure measures media medical medicine medium
    meeting member members mention method middle might mightn miles million minimum minor minus mitigation mixed
    mobility model modeled modeling modelled modelling models moderate modern moment monday money month monthly
    months morning mostly mother motor moved moves movie moving multiple music mustn myself named names narrow
    nation national natural nature nearby nearly necessary needed needs negative neighborhood neighbourhood
    neither network never night nobody noise normal normally north nothing notice novel number numbers nurse
    nurses obvious obviously occur occurs office offices often older online opening option options order ordered
    orders organise organize original other others otherwise ought outbreak outbreaks outcome outcomes outdoor
    outdoors output outputs outside overall overload overloaded overtime owner package packages pandemic paper
    parcel parcels parent parents particular partly party passed passengers pathogen patient patients pattern
    pause payment peace peaks people perfect perhaps period permanent person personal phase phone physical
    picture piece pizza place placed places plain planned planning plans plant plays please pleased point points
    police policy popular portion position positive possible possibly potential pound pounds power practical
    practice predict prediction prefer prepare prepared present president press pressure pretty prevalence
    prevent previous previously price prices primary print prior private probably problem problems process
    produce product profile program programme progress project proper properly propose protect protected
    protection proud prove provide provided public purpose quality quarantine quarter question questions queue
    queues quick quickly quiet quite radio raise raised random range ranges rapid rapidly rather reach reached
    reaching react ready realistic reality really reason reasonable reasons receive recent recently record
    recovered recovery reduce reduced reduces reducing reduction region regular related relative relatively
    release relevant remain remaining remains remember remote remove removed reopen reopening repeat replace
    report reported represent reproductive request require required requires research resident residents
    resource resources respect respond response restaurant restaurants restriction restrictions result resulting
    results return review riders right rising river robust rollout rough roughly round route routes ruled rumor
    rumors rumour rumours rural safer safety salary sample saturday scale scenario scenarios schedule scheme
    school schools science scooter scooters score scratch screen season seasonal seating seats second secondary
    section sector security seeing seems selected sense sensible separate serious serve served service services
    session setting settings setup seven several severe shape share shared sharp shift shifts shipment shipments
    shipping shock short shorter should shouldn shown shows shutdown sight signal significant significantly
    similar simple simply simulate simulated simulation simulations since single situation sixty sized skill
    skills slight slightly slower slowly small smaller smallest social society solid solve somebody someone
    something sometime sometimes somewhat somewhere sorry sound source south space speak special specific spend
    spending spent spike split sport spread spreading spring square stadium staff staffing stage stand standard
    start started starting starts state stated states station statistics steady still stock stocks stone stopped
    store stores stories story straight strain strange strategy street strength stress strict strong stronger
    strongest student students study stuff style subject succeed success successful sudden suddenly suggest
    summer sunday supermarket supply support suppose supposed surely surge surges surprise symptoms system
    systems table takeaway taken takes taking talking target targets teacher teachers teaching teams technical
    tells temporary tends terms testing thank thanks theater theatre their theirs theme themselves theory there
    therefore these thing things think thinking third those though thought thousand three threshold through
    throughout throughput thursday tickets tight timeline timing title today together tomorrow tonight total
    totally touch tough toward towards tower tracing trade traffic train training transmission transport travel
    treat treatment trend trial trips trouble truck trucks truly trust truth tuesday twelve twice typical
    typically under understand unique units unless unlike until unusual upper uptake urban usage useful users
    usual usually utilisation utilise utilization utilize vaccinate vaccinated vaccination vaccine vaccines
    valid value values variant variants various vehicle vehicles version versus video village visit visits voice
    volume voters vulnerable waiting walking wanted wants warehouse warehouses warning watch water waves weather
    weekday weekend weekends weekly weeks weight welcome weren whatever wheel where whereas whether which while
    whole whose widely wider width wildfire window winter within without woman women wonder wondering words
    worker workers working world worried worry worse worst worth would wouldn write written wrong yearly years
    yesterday young yourself youth
"""
COMMON_WORDS = frozenset(_COMMON_WORDS_TEXT.split())
