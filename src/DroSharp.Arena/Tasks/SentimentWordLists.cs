namespace DroSharp.Arena.Tasks;

/// <summary>
/// The hand-written word lists behind the sentiment task. Signs follow English meaning so samples read
/// naturally; the exact valences and multipliers are drawn from a seed by <see cref="SentimentLexicon"/>.
/// Every list is disjoint from every other.
/// </summary>
internal static class SentimentWordLists
{
    // Prompt = opener? determiner subject link, e.g. "i thought the acting was".
    public static readonly string[] Openers = ["", "i thought", "honestly", "overall", "my friend said", "in my opinion", "to be honest", "i felt"];
    public static readonly string[] Determiners = ["the", "this"];
    public static readonly string[] Subjects =
    [
        "movie", "film", "plot", "story", "acting", "cast", "script", "dialogue", "ending", "soundtrack",
        "music", "direction", "pacing", "cinematography", "sequel", "finale", "premise", "humor", "villain", "hero",
        "romance", "editing", "screenplay", "performance", "lead",
    ];
    public static readonly string[] Links = ["was", "is", "seemed", "looked"];

    public static readonly string[] PositiveAdjectives =
    [
        "good", "great", "excellent", "wonderful", "brilliant", "superb", "amazing", "fantastic", "delightful", "charming",
        "moving", "beautiful", "gorgeous", "clever", "witty", "funny", "gripping", "thrilling", "stunning", "touching",
        "heartfelt", "inventive", "fresh", "engaging", "lovely", "magnificent", "masterful", "powerful", "riveting", "sharp",
        "smart", "sweet", "terrific", "uplifting", "vivid", "warm", "compelling", "elegant", "enjoyable", "marvelous",
        "outstanding", "perfect", "remarkable", "splendid", "inspired",
    ];
    public static readonly string[] NegativeAdjectives =
    [
        "bad", "awful", "terrible", "boring", "dull", "tedious", "clumsy", "bland", "weak", "messy",
        "silly", "stupid", "lazy", "painful", "dreadful", "horrible", "lousy", "poor", "shallow", "tiresome",
        "forgettable", "predictable", "pointless", "pretentious", "sloppy", "stale", "flat", "confusing", "cheap", "annoying",
        "bloated", "hollow", "lifeless", "mediocre", "unbearable", "disappointing", "dreary", "incoherent", "overlong", "tacky",
        "trite", "wooden", "grating", "ugly", "joyless",
    ];
    public static readonly string[] NeutralAdjectives =
    [
        "long", "short", "loud", "quiet", "slow", "fast", "dark", "bright", "simple", "complex",
        "strange", "unusual", "familiar", "modern", "old", "new", "serious", "light", "heavy", "busy",
        "sparse", "calm", "plain", "odd", "typical", "traditional", "experimental", "colorful", "grey", "ordinary",
        "literal", "measured", "straightforward", "talky", "episodic", "european", "rural", "urban", "historical", "musical",
        "violent", "gentle", "small", "large", "technical",
    ];

    public static readonly string[] Intensifiers = ["very", "really", "truly", "extremely", "incredibly", "remarkably", "absolutely", "utterly", "deeply", "genuinely", "totally", "thoroughly"];
    public static readonly string[] Dampeners = ["slightly", "somewhat", "fairly", "rather", "mildly", "moderately", "partly", "occasionally"];

    public static readonly string[] PositiveNouns =
    [
        "laughs", "thrills", "surprises", "insights", "delights", "charms", "highlights", "gems", "wonders", "treats",
        "pleasures", "triumphs", "joys", "marvels", "strengths", "rewards", "smiles", "sparks", "virtues", "flourishes",
    ];
    public static readonly string[] NegativeNouns =
    [
        "flaws", "cliches", "mistakes", "holes", "problems", "gaps", "bores", "failures", "blunders", "lapses",
        "weaknesses", "annoyances", "headaches", "yawns", "groans", "errors", "stumbles", "letdowns", "faults", "snags",
    ];
    public static readonly string[] NeutralNouns =
    [
        "scenes", "moments", "characters", "songs", "shots", "lines", "colors", "costumes", "sets", "details",
        "locations", "twists", "cameos", "flashbacks", "montages", "subplots", "chapters", "voices", "animals", "cars",
    ];

    public static readonly string[] Conjunctions = ["and", "but", "yet"];
    public const string WithWord = "with";
    public const string EndWord = ".";
}
