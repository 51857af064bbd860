namespace DroSharp.Text.Tests;

/// <summary>
/// Issue 15: tokenizer.json files that loaded and then crashed (InvalidOperationException, exit 2 in the CLI) are
/// refused when read (FormatException) or, for text a tokenizer cannot represent, fail as <see cref="UnencodableTextException"/>.
/// Several were found by the fuzzer (fuzz/run.sh tokenizer).
/// </summary>
public sealed class TokenizerHardeningTests
{
    private const string Added = """[{"id":0,"content":"<pad>","special":true},{"id":1,"content":"</s>","special":true},{"id":2,"content":"<unk>","special":true}]""";

    private static string WordLevel(string unk, string postProcessor = "null") => $$$"""
        {"added_tokens": {{{Added}}}, "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": {{{postProcessor}}}, "decoder": null,
         "model": {"type": "WordLevel", "vocab": {"<pad>": 0, "</s>": 1, "<unk>": 2, "hello": 3}, "unk_token": "{{{unk}}}"}}
        """;

    [Fact]
    public void AnUnkTokenMissingFromTheVocabularyFailsAsUnencodableText()
    {
        var tok = Tokenizer.FromJson(WordLevel("<nope>"));
        Assert.Equal([3], tok.EncodeIds("hello", addSpecialTokens: false));
        var e = Assert.Throws<UnencodableTextException>(() => tok.EncodeIds("hello stranger"));
        Assert.Contains("<nope>", e.Message);
        Assert.IsAssignableFrom<FormatException>(e);
    }

    [Fact]
    public void AUnigramModelWithoutUnkIdFailsAsUnencodableText()
    {
        var tok = Tokenizer.FromJson("""{"added_tokens": [], "model": {"type": "Unigram", "vocab": [["a", -1.0], ["b", -2.0]]}}""");
        Assert.Throws<UnencodableTextException>(() => tok.EncodeIds("abc"));
    }

    [Fact]
    public void ANonFiniteUnigramScoreIsRefused()
    {
        var e = Assert.Throws<FormatException>(() => Tokenizer.FromJson("""{"added_tokens": [], "model": {"type": "Unigram", "vocab": [["a", -1e999]]}}"""));
        Assert.Contains("finite", e.Message);
    }

    [Theory]
    [InlineData("""{"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</x>", "type_id": 0}}], "special_tokens": {}}""", "</x>")]
    [InlineData("""{"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"</s>": {"id": "<s>", "ids": [1], "tokens": ["</s>"]}}}""", "differs")]
    [InlineData("""{"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"</s>": {"id": "</s>", "ids": ["one"], "tokens": ["</s>"]}}}""", "ids")]
    public void TemplateProcessingRefusesUndefinedOrInconsistentSpecialTokens(string postProcessor, string expected)
    {
        var e = Assert.Throws<FormatException>(() => Tokenizer.FromJson(WordLevel("<unk>", postProcessor)));
        Assert.Contains(expected, e.Message);
    }
}
