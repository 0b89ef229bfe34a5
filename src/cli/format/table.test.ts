import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgument } from '../../lib/errors.js';
import { renderTable, tabwrite, displayWidth, isTableFormat } from './table.js';

const IMAGE_HEADERS = {
  Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE', Digest: 'DIGEST',
};
const DEFAULT_IMAGES = 'table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}';

const busybox = { Repository: 'busybox', Tag: 'latest', ID: 'a416a98b71e2', CreatedSince: '4 weeks ago', Size: '4.26MB' };
const app = { Repository: 'localhost:5000/my/app', Tag: '1.0', ID: '0123456789ab', CreatedSince: '2 days ago', Size: '123MB' };

test('docker images default table, one row, matches docker byte for byte', () => {
  const out = renderTable(DEFAULT_IMAGES, [busybox], IMAGE_HEADERS);
  assert.equal(out,
    'REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n' +
    'busybox      latest    a416a98b71e2   4 weeks ago   4.26MB\n');
});

test('docker images table widens columns to the longest cell plus 3', () => {
  const out = renderTable(DEFAULT_IMAGES, [busybox, app], IMAGE_HEADERS);
  assert.equal(out,
    'REPOSITORY              TAG       IMAGE ID       CREATED       SIZE\n' +
    'busybox                 latest    a416a98b71e2   4 weeks ago   4.26MB\n' +
    'localhost:5000/my/app   1.0       0123456789ab   2 days ago    123MB\n');
});

test('a table with no rows still prints its header', () => {
  assert.equal(renderTable('table {{.ID}}\\t{{.Size}}', [], IMAGE_HEADERS), 'IMAGE ID   SIZE\n');
});

test('the default format applies to "" and "table"', () => {
  const opts = { defaultFormat: DEFAULT_IMAGES };
  const want = renderTable(DEFAULT_IMAGES, [busybox], IMAGE_HEADERS);
  assert.equal(renderTable('', [busybox], IMAGE_HEADERS, opts), want);
  assert.equal(renderTable('table', [busybox], IMAGE_HEADERS, opts), want);
});

test('header functions keep titles intact, other functions still apply to values', () => {
  const out = renderTable('table {{upper .Repository}}\\t{{json .Tag}}', [busybox], IMAGE_HEADERS);
  assert.equal(out, 'REPOSITORY   TAG\nBUSYBOX      "latest"\n');
});

test('a real tab in the format works like \\t, and surrounding spaces are trimmed', () => {
  const out = renderTable('table   {{.Repository}}\t{{.Tag}}  ', [busybox], IMAGE_HEADERS);
  assert.equal(out, 'REPOSITORY   TAG\nbusybox      latest\n');
});

test('without table: one template result per row, no header, no alignment', () => {
  assert.equal(renderTable('{{.Repository}}:{{.Tag}}', [busybox, app], IMAGE_HEADERS),
    'busybox:latest\nlocalhost:5000/my/app:1.0\n');
  assert.equal(renderTable('{{.Repository}}\\t{{.Tag}}', [busybox], IMAGE_HEADERS), 'busybox\tlatest\n');
  assert.equal(renderTable('{{.ID}}', [], IMAGE_HEADERS), '');
});

test('json prints one object per line with keys sorted like Go maps', () => {
  const out = renderTable('json', [busybox, { ...app, Lazy: (): string => 'v' }], IMAGE_HEADERS);
  assert.equal(out,
    '{"CreatedSince":"4 weeks ago","ID":"a416a98b71e2","Repository":"busybox","Size":"4.26MB","Tag":"latest"}\n' +
    '{"CreatedSince":"2 days ago","ID":"0123456789ab","Lazy":"v","Repository":"localhost:5000/my/app","Size":"123MB","Tag":"1.0"}\n');
  assert.equal(renderTable('{{json .}}', [{ b: 1, a: 2 }], {}), '{"a":2,"b":1}\n');
});

test('a field without a title heads its column with <no value>', () => {
  assert.equal(renderTable('table {{.Nope}}\\t{{.Tag}}', [busybox], IMAGE_HEADERS), '<no value>   TAG\n<no value>   latest\n');
});

test('template errors surface as InvalidArgument', () => {
  assert.throws(() => renderTable('table {{.Repository', [busybox], IMAGE_HEADERS),
    (e: unknown) => e instanceof InvalidArgument && /^template parsing error: /.test(e.message));
});

test('isTableFormat follows docker (prefix match)', () => {
  assert.equal(isTableFormat('table {{.ID}}'), true);
  assert.equal(isTableFormat('table'), true);
  assert.equal(isTableFormat('{{.ID}}'), false);
  assert.equal(isTableFormat('json'), false);
});

test('tabwrite: columns are blocks of consecutive tab-terminated cells', () => {
  assert.equal(tabwrite('a\tb\tc\nlonger\td\n\nx\ty\n'), 'a         b         c\nlonger    d\n\nx         y\n');
  assert.equal(tabwrite('a\tb\tc\nlonger\td\n\nx\ty\n', { minwidth: 0, padding: 1 }), 'a      b c\nlonger d\n\nx y\n');
  assert.equal(tabwrite('a\t\tc\n'), 'a                   c\n');
  assert.equal(tabwrite('no tabs\n'), 'no tabs\n');
  assert.equal(tabwrite('trailing\t\n'), 'trailing   \n');
  assert.equal(tabwrite('x\ty'), 'x         y');
  assert.equal(tabwrite(''), '');
});

test('tabwrite measures wide characters by display width', () => {
  assert.equal(displayWidth('日本'), 4);
  assert.equal(displayWidth('e\u0301'), 1);
  assert.equal(tabwrite('日本語\tx\nab\ty\n', { minwidth: 0, padding: 1 }), '日本語 x\nab     y\n');
});
