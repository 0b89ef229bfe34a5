import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMAND_MODULES, FIRST_WORDS } from './registry-of-commands.js';

test('every command is reachable through its first word, and the table names no missing word', async () => {
  const seen = new Set<string>();
  for (const [mod, load] of Object.entries(COMMAND_MODULES)) {
    for (const c of await load()) {
      for (const n of c.names) {
        const word = n.split(' ')[0]!;
        seen.add(word);
        assert.ok(FIRST_WORDS[word]?.includes(mod), `"${n}" lives in ${mod}, but FIRST_WORDS["${word}"] does not list it`);
      }
    }
  }
  for (const w of Object.keys(FIRST_WORDS)) assert.ok(seen.has(w), `FIRST_WORDS has "${w}" but no command starts with it`);
});
