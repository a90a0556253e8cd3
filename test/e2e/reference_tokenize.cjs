// The reference side of test/e2e/tokenizers.py: Hugging Face's JavaScript
// tokenizers (@huggingface/tokenizers) on a model's tokenizer.json.
//
//   node reference_tokenize.cjs TOKENIZERS_CJS MODEL_DIR < texts.json > ids.json
//
// Reads a JSON array of texts, writes a JSON array of {ids, text}: each
// text encoded without the tokens a template adds (no BOS), with added
// tokens in the text matched as the library matches them, and the ids
// decoded again (added tokens kept).
const fs = require('fs');
const path = require('path');
const [tokenizersModule, modelDir] = process.argv.slice(2);
const { Tokenizer } = require(tokenizersModule);
const read = (name) => JSON.parse(fs.readFileSync(path.join(modelDir, name), 'utf8'));
const tokenizer = new Tokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
const texts = JSON.parse(fs.readFileSync(0, 'utf8'));
const results = texts.map((t) => {
  const ids = Array.from(tokenizer.encode(t, { add_special_tokens: false }).ids);
  // Without the cosmetic clean-up some configs ask for (" ," -> ","): the
  // device gives back what the tokens spell.
  const text = tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  return { ids, text };
});
process.stdout.write(JSON.stringify(results));
