// The reference side of test/e2e/chat.py: a model's chat template rendered
// by @huggingface/jinja (what transformers.js's apply_chat_template runs)
// and tokenized by @huggingface/tokenizers.
//
//   node reference_chat.cjs JINJA_CJS TOKENIZERS_CJS MODEL_DIR < conversations.json
//
// Reads a JSON array of conversations (arrays of {role, content}); writes a
// JSON array of {text, ids}: the template rendered with
// add_generation_prompt and the special tokens of tokenizer_config.json,
// then encoded without adding special tokens (the template writes them),
// as apply_chat_template(tokenize=True) does.
const fs = require('fs');
const path = require('path');
const [jinjaModule, tokenizersModule, modelDir] = process.argv.slice(2);
const { Template } = require(jinjaModule);
const { Tokenizer } = require(tokenizersModule);
const read = (name) => JSON.parse(fs.readFileSync(path.join(modelDir, name), 'utf8'));
const config = read('tokenizer_config.json');
const tokenizer = new Tokenizer(read('tokenizer.json'), config);
const template = new Template(config.chat_template);
const special = {};
for (const name of ['bos_token', 'eos_token', 'unk_token', 'pad_token']) {
  const v = config[name];
  if (typeof v === 'string') special[name] = v;
  else if (v && typeof v.content === 'string') special[name] = v.content;
}
const conversations = JSON.parse(fs.readFileSync(0, 'utf8'));
const results = conversations.map((messages) => {
  const text = template.render({ messages, add_generation_prompt: true, ...special });
  const ids = Array.from(tokenizer.encode(text, { add_special_tokens: false }).ids);
  return { text, ids };
});
process.stdout.write(JSON.stringify(results));
