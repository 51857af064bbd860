const { Tokenizer } = require('tokenizers');
const fs = require('fs');
const [,, tokfile, jsonl] = process.argv;
const tok = Tokenizer.fromFile(tokfile);
(async () => {
for (const line of fs.readFileSync(jsonl, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const o = JSON.parse(line);
  const e = await tok.encode(o.text, null, { addSpecialTokens: true });
  const e2 = await tok.encode(o.text, null, { addSpecialTokens: false });
  const ids = e.getIds();
  console.log(JSON.stringify({text: o.text, ids, ids_no_special: e2.getIds(), tokens: e.getTokens(),
    decoded: await tok.decode(ids, false), decoded_skip_special: await tok.decode(ids, true)}));
}
})();
