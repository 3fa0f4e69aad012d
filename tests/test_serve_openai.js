// serve.openai_client: the official openai npm client (package-lock.json) against the real
// `lam serve`: the model list; chat completions with the action types offered as tools, the
// answer's tool calls checked against the observation here; the offered tools restricting the
// answer; parallel_tool_calls false; streaming (the raw chunks, and the client's own stream
// accumulator) giving the same tool calls as the plain answer; concurrent clients getting the
// answers they get alone; a second turn with the first answer in the messages; and the client's
// error classes for a bad request, an unknown model and a wrong key.
// Usage: node test_serve_openai.js BASE_URL API_KEY WORKDIR MODEL (WORKDIR holds req*.json,
// ep*.json; MODEL is the id the server gives its model)
'use strict';
const fs = require('fs');
const assert = require('assert');
const { OpenAI } = require('openai');

const [baseURL, apiKey, work, modelId] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120000 });
const load = (f) => JSON.parse(fs.readFileSync(`${work}/${f}`, 'utf8'));
const ROLE_OK = { type: ['textbox', 'searchbox', 'combobox'], select: ['combobox'] };

// The tool calls of a message are actions valid for the observation (the schema's rules).
function checkCalls(calls, obs, offered, most) {
  const els = {};
  for (const e of obs.elements) if (!(e.id in els)) els[e.id] = e;
  assert.ok(calls.length >= 1 && calls.length <= most, `${calls.length} calls`);
  calls.forEach((c, i) => {
    assert.strictEqual(c.type, 'function');
    assert.ok(typeof c.id === 'string' && c.id.length > 0);
    const name = c.function.name;
    assert.ok(offered.includes(name), `${name} was not offered (${offered})`);
    assert.ok(name !== 'done' || i === calls.length - 1, 'done is last');
    const a = JSON.parse(c.function.arguments);
    for (const k of Object.keys(a)) assert.ok(['element', 'value', 'role', 'name'].includes(k), k);
    if (['click', 'type', 'select', 'hover'].includes(name)) assert.ok('element' in a, name);
    if ('element' in a) {
      const e = els[a.element];
      assert.ok(e, `unknown element ${a.element}`);
      assert.ok(!e.disabled, `disabled ${a.element}`);
      assert.strictEqual(a.role, e.role);
      assert.strictEqual(a.name, e.name);
      if (ROLE_OK[name]) assert.ok(ROLE_OK[name].includes(e.role), `${name} on a ${e.role}`);
      if (name === 'select') assert.ok(e.options.includes(a.value), `option ${a.value}`);
    }
    if (['type', 'select', 'press', 'goto'].includes(name)) assert.strictEqual(typeof a.value, 'string');
  });
}

const same = (x, y) =>
  JSON.stringify(x.map((c) => [c.function.name, c.function.arguments])) ===
  JSON.stringify(y.map((c) => [c.function.name, c.function.arguments]));

function messages(req) {
  return [
    { role: 'system', content: 'You operate web applications.' },
    { role: 'user', content: req.task },
    { role: 'user', content: JSON.stringify(req.observation) },
  ];
}

async function main() {
  const models = await client.models.list();
  const ids = [];
  for await (const m of models) ids.push(m.id);
  assert.deepStrictEqual(ids, [modelId]);
  const model = ids[0];
  const tools = (await client.get('/tools')).data;
  const all = tools.map((t) => t.function.name);
  assert.strictEqual(all.length, 9);

  // plain answers with every tool offered
  const reqs = [0, 1, 2, 3, 4, 5].map((i) => load(`req${i}.json`));
  const plain = [];
  for (const r of reqs) {
    const c = await client.chat.completions.create({ model, messages: messages(r), tools });
    assert.strictEqual(c.object, 'chat.completion');
    assert.strictEqual(c.model, model);
    const ch = c.choices[0];
    assert.strictEqual(ch.finish_reason, 'tool_calls');
    assert.strictEqual(ch.message.role, 'assistant');
    assert.strictEqual(ch.message.content, null);
    checkCalls(ch.message.tool_calls, r.observation, all, 8);
    assert.ok(c.usage.prompt_tokens > 0 && c.usage.completion_tokens > 0);
    assert.strictEqual(c.usage.total_tokens, c.usage.prompt_tokens + c.usage.completion_tokens);
    plain.push(c);
  }
  console.log(`  ${plain.length} answers: ${plain.map((c) => c.choices[0].message.tool_calls.map((t) => t.function.name).join('+')).join(', ')}`);

  // the tools offered restrict the answer: leave out the type the plain answer began with
  // (and the free-text types: this tiny model's text could run past its 1024 positions)
  const bounded = ['click', 'select', 'hover', 'scroll', 'back'];
  for (let i = 0; i < reqs.length; i++) {
    const first = plain[i].choices[0].message.tool_calls[0].function.name;
    const offered = tools.filter((t) => t.function.name !== first && bounded.includes(t.function.name));
    const c = await client.chat.completions.create({ model, messages: messages(reqs[i]), tools: offered });
    checkCalls(c.choices[0].message.tool_calls, reqs[i].observation, offered.map((t) => t.function.name), 8);
  }
  // tool_choice names one tool; parallel_tool_calls false gives one call
  const clickable = reqs.findIndex((r) => plain[reqs.indexOf(r)].choices[0].message.tool_calls.some((t) => t.function.name === 'click'));
  if (clickable >= 0) {
    const c = await client.chat.completions.create({
      model, messages: messages(reqs[clickable]), tools,
      tool_choice: { type: 'function', function: { name: 'click' } },
    });
    checkCalls(c.choices[0].message.tool_calls, reqs[clickable].observation, ['click'], 8);
  }
  for (let i = 0; i < 3; i++) {
    const c = await client.chat.completions.create({ model, messages: messages(reqs[i]), tools, parallel_tool_calls: false });
    checkCalls(c.choices[0].message.tool_calls, reqs[i].observation, all, 1);
  }
  console.log('  offered tools, tool_choice and parallel_tool_calls respected');

  // streaming: the raw chunks accumulated give the plain answer's calls; so does the client's
  // own accumulator (chat.completions.stream -> finalChatCompletion)
  for (let i = 0; i < reqs.length; i++) {
    const stream = await client.chat.completions.create({
      model, messages: messages(reqs[i]), tools, stream: true, stream_options: { include_usage: true },
    });
    const calls = [];
    let finish = null, usage = null, role = null, chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.strictEqual(chunk.object, 'chat.completion.chunk');
      if (chunk.usage) usage = chunk.usage;
      for (const ch of chunk.choices) {
        if (ch.delta.role) role = ch.delta.role;
        for (const tc of ch.delta.tool_calls || []) {
          const c = (calls[tc.index] = calls[tc.index] || { id: '', type: '', function: { name: '', arguments: '' } });
          if (tc.id) c.id = tc.id;
          if (tc.type) c.type = tc.type;
          if (tc.function && tc.function.name) c.function.name += tc.function.name;
          if (tc.function && tc.function.arguments) c.function.arguments += tc.function.arguments;
        }
        if (ch.finish_reason) finish = ch.finish_reason;
      }
    }
    assert.strictEqual(role, 'assistant');
    assert.strictEqual(finish, 'tool_calls');
    assert.ok(same(calls, plain[i].choices[0].message.tool_calls), `stream ${i} differs`);
    assert.deepStrictEqual(usage, plain[i].usage);
    const helper = client.chat.completions.stream({ model, messages: messages(reqs[i]), tools });
    const final = await helper.finalChatCompletion();
    assert.strictEqual(final.choices[0].finish_reason, 'tool_calls');
    assert.ok(same(final.choices[0].message.tool_calls, plain[i].choices[0].message.tool_calls), `helper ${i} differs`);
    if (i === 0) console.log(`  stream: ${chunks} chunks, ${calls.length} tool calls`);
  }
  console.log('  streams equal the plain answers (raw chunks and the client\'s accumulator)');

  // 12 clients at once get what they get alone (greedy decoding is batch invariant)
  const par = await Promise.all(Array.from({ length: 12 }, (_, k) =>
    client.chat.completions.create({ model, messages: messages(reqs[k % 6]), tools })));
  par.forEach((c, k) => assert.ok(same(c.choices[0].message.tool_calls, plain[k % 6].choices[0].message.tool_calls), `concurrent ${k}`));
  console.log('  12 concurrent clients: the answers they get alone');

  // a second turn: the first answer as the assistant's message, tool results, the next observation
  const ep = load('ep0.json');
  const m1 = [{ role: 'user', content: ep.task }, { role: 'user', content: JSON.stringify(ep.steps[0].observation) }];
  const c1 = await client.chat.completions.create({ model, messages: m1, tools });
  const m2 = m1.concat([c1.choices[0].message],
    c1.choices[0].message.tool_calls.map((t) => ({ role: 'tool', tool_call_id: t.id, content: 'done' })),
    [{ role: 'user', content: JSON.stringify(ep.steps[1].observation) }]);
  const c2 = await client.chat.completions.create({ model, messages: m2, tools });
  checkCalls(c2.choices[0].message.tool_calls, ep.steps[1].observation, all, 8);
  // the server's /v1/act with that history gives the same answer (greedy)
  const hist = c1.choices[0].message.tool_calls.map((t) => {
    const a = JSON.parse(t.function.arguments);
    const o = { type: t.function.name };
    if ('element' in a) o.element = a.element;
    if ('value' in a) o.value = a.value;
    return o;
  });
  const act = await client.post('/act', { body: { task: ep.task, observation: ep.steps[1].observation, history: hist } });
  assert.strictEqual(JSON.stringify(act.actions.map((a) => [a.type, a.element, a.value])),
    JSON.stringify(c2.choices[0].message.tool_calls.map((t) => { const a = JSON.parse(t.function.arguments); return [t.function.name, a.element, a.value]; })));
  console.log('  a second turn with the first answer in the messages = /v1/act with that history');

  // errors, as the client's classes
  await assert.rejects(client.chat.completions.create({ model, messages: [{ role: 'user', content: 'only a task' }], tools }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && e.param === 'messages[0].content' && /observation/.test(e.message));
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: messages(reqs[0]) }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && e.param === 'model' && e.code === 'model_not_found');
  await assert.rejects(client.chat.completions.create({ model, messages: messages(reqs[0]), n: 2 }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'n');
  const wrong = new OpenAI({ baseURL, apiKey: apiKey + 'x', maxRetries: 0 });
  await assert.rejects(wrong.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
  await assert.rejects(wrong.chat.completions.create({ model, messages: messages(reqs[0]), stream: true }),
    (e) => e instanceof OpenAI.AuthenticationError);
  console.log('  errors: BadRequestError (param), NotFoundError (model), AuthenticationError');
}

main().then(() => console.log('openai client: ok'), (e) => { console.error(e); process.exit(1); });
