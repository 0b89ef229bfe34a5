import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgument } from '../../lib/errors.js';
import { compileTemplate, parseTemplate, sprintf, formatValue, goJson, HEADER_FUNCTIONS, expandEscapes } from './template.js';

const data = {
  ID: 'abc123',
  Name: 'web',
  Size: 1234,
  Ratio: 0.5,
  Running: true,
  Empty: '',
  Zero: 0,
  Nothing: null,
  Config: { Image: 'busybox', Env: ['A=1', 'B=2'], Labels: { 'com.example.x': 'y', a: 'b' } },
  Ports: [{ PrivatePort: 80, Type: 'tcp' }, { PrivatePort: 443, Type: 'tcp' }],
  Names: ['/web', '/alias'],
  NoLabels: {},
  Count: 3,
  Lazy(): string { return 'computed'; },
};

const run = (src: string, d: unknown = data): string => compileTemplate(src)(d);

test('fields, nested fields and dot', () => {
  const cases: [string, string][] = [
    ['{{.ID}}', 'abc123'],
    ['{{ .Name }}', 'web'],
    ['{{.Config.Image}}', 'busybox'],
    ['{{.Size}}', '1234'],
    ['{{.Ratio}}', '0.5'],
    ['{{.Running}}', 'true'],
    ['{{.Nothing}}', '<nil>'],
    ['{{.Missing}}', '<no value>'],
    ['{{.Missing.Deeper}}', '<no value>'],
    ['{{.Config.Missing}}', '<no value>'],
    ['{{.Config.Env}}', '[A=1 B=2]'],
    ['{{.Config.Labels}}', 'map[a:b com.example.x:y]'],
    ['{{.Lazy}}', 'computed'],
    ['{{.}}', formatValue(data)],
    ['{{$.Name}}', 'web'],
    ['a{{.Name}}b{{.ID}}c', 'awebbabc123c'],
    ['{{"lit"}} {{`raw\\n`}} {{42}} {{-3}} {{1.5}} {{true}} {{nil}}', 'lit raw\n 42 -3 1.5 true <nil>'], // docker expands \n even inside literals
    ['{{/* a comment */}}x', 'x'],
    ['{{(index .Ports 1).PrivatePort}}', '443'],
  ];
  for (const [src, want] of cases) assert.equal(run(src), want, src);
});

test('json', () => {
  assert.equal(run('{{json .Config.Env}}'), '["A=1","B=2"]');
  assert.equal(run('{{json .Name}}'), '"web"');
  assert.equal(run('{{json .Missing}}'), 'null');
  assert.equal(run('{{json .}}', { b: 1, a: '<&>' }), '{"b":1,"a":"<&>"}');
  assert.equal(compileTemplate('{{json .}}', { sortJsonKeys: true })({ b: 1, a: { d: 1, c: 2 } }), '{"a":{"c":2,"d":1},"b":1}');
  assert.equal(goJson('\u2028'), '"\\u2028"');
});

test('printf, print, println and pipes', () => {
  assert.equal(run('{{printf "%s %d" .Name .Size}}'), 'web 1234');
  assert.equal(run('{{.Name | printf "%s!"}}'), 'web!');
  assert.equal(run('{{.Name | printf "%-6s|"}}'), 'web   |');
  assert.equal(run('{{printf "%5d|%05d|%x|%q|%v|%t|%.2f|%%" 42 42 255 "a" .Config.Env true 3.14159}}'), '   42|00042|ff|"a"|[A=1 B=2]|true|3.14|%');
  assert.equal(run('{{printf "%d" "x"}}'), '%!d(string=x)');
  assert.equal(run('{{printf "%s %s" "x"}}'), 'x %!s(MISSING)');
  assert.equal(run('{{print "a" 1 2 "b"}}'), 'a1 2b');
  assert.equal(run('{{println "a" 1}}'), 'a 1\n');
  assert.equal(run('{{println}}'), '\n');
  assert.equal(run('{{.Name | upper | printf "[%s]"}}'), '[WEB]');
});

test('string functions', () => {
  assert.equal(run('{{upper .Name}}'), 'WEB');
  assert.equal(run('{{lower "ABC"}}'), 'abc');
  assert.equal(run('{{title "hello big world"}}'), 'Hello Big World');
  assert.equal(run('{{title "don\'t"}}'), "Don'T");
  assert.equal(run('{{join .Names ","}}'), '/web,/alias');
  assert.equal(run('{{split "a:b:c" ":"}}'), '[a b c]');
  assert.equal(run('{{join (split "a:b" ":") "-"}}'), 'a-b');
  assert.equal(run('{{pad .Name 2 1}}|{{pad "" 2 1}}|'), '  web ||');
  assert.equal(run('{{truncate .ID 3}}'), 'abc');
  assert.equal(run('{{truncate .ID 30}}'), 'abc123');
});

test('len and index', () => {
  assert.equal(run('{{len .Names}} {{len .Name}} {{len .Config.Labels}} {{len "é"}}'), '2 3 2 2');
  assert.equal(run('{{index .Config.Labels "com.example.x"}}'), 'y');
  assert.equal(run('{{index .Config.Labels "nope"}}'), ''); // string map: zero value
  assert.equal(run('{{index .NoLabels "nope"}}'), '');
  assert.equal(run('{{index .Names 1}}'), '/alias');
  assert.equal(run('{{index .Ports 0 "PrivatePort"}}'), '80');
  assert.throws(() => run('{{index .Names 5}}'), /index out of range: 5/);
});

test('if / else / else if / with', () => {
  assert.equal(run('{{if .Running}}up{{else}}down{{end}}'), 'up');
  assert.equal(run('{{if .Empty}}x{{else}}empty{{end}}'), 'empty');
  assert.equal(run('{{if .Zero}}x{{else if .Count}}count{{else}}none{{end}}'), 'count');
  assert.equal(run('{{if .Missing}}x{{else if .Nothing}}y{{else}}none{{end}}'), 'none');
  assert.equal(run('{{if .NoLabels}}x{{else}}no labels{{end}}'), 'no labels');
  assert.equal(run('{{with .Config}}{{.Image}}{{end}}'), 'busybox');
  assert.equal(run('{{with .Missing}}{{.Image}}{{else}}none{{end}}'), 'none');
  assert.equal(run('{{if and .Running .Count}}both{{end}}{{if or .Zero .Empty}}x{{else}}neither{{end}}'), 'bothneither');
  assert.equal(run('{{if not .Zero}}zero{{end}}'), 'zero');
  assert.equal(run('{{if eq .Name "db" "web"}}match{{end}}{{if ne .Size 1}} ne{{end}}{{if lt .Count 5}} lt{{end}}{{if ge .Count 3}} ge{{end}}'), 'match ne lt ge');
});

test('range with variables, else, break and continue', () => {
  assert.equal(run('{{range .Names}}[{{.}}]{{end}}'), '[/web][/alias]');
  assert.equal(run('{{range $i, $n := .Names}}{{$i}}={{$n}} {{end}}'), '0=/web 1=/alias ');
  assert.equal(run('{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}};{{end}}'), 'a:b;com.example.x:y;');
  assert.equal(run('{{range .Ports}}{{.PrivatePort}}/{{.Type}} {{end}}'), '80/tcp 443/tcp ');
  assert.equal(run('{{range .Missing}}x{{else}}none{{end}}'), 'none');
  assert.equal(run('{{range $p := .Ports}}{{if eq $p.PrivatePort 443}}{{break}}{{end}}{{$p.PrivatePort}}{{end}}'), '80');
  assert.equal(run('{{range .Names}}{{if eq . "/web"}}{{continue}}{{end}}{{.}}{{end}}'), '/alias');
  assert.equal(run('{{range .Names}}{{$.Name}}{{end}}'), 'webweb');
  assert.equal(run('{{range 3}}{{.}}{{end}}'), '012');
  assert.equal(run('{{$x := .Name}}{{$x}}{{$x = "other"}} {{$x}}'), 'web other');
});

test('whitespace trimming and escapes', () => {
  assert.equal(run('a  {{- .Name -}}  \n b'), 'awebb');
  assert.equal(run('{{range .Names -}}\n  {{.}}\n{{- end}}'), '/web/alias');
  assert.equal(run('{{.Name}}\\t{{.ID}}\\n'), 'web\tabc123\n');
  assert.equal(compileTemplate('{{.Name}}\\t', { expandEscapes: false })(data), 'web\\t');
  assert.equal(expandEscapes('a\\tb\\nc'), 'a\tb\nc');
  assert.equal(run('{{"}}"}}'), '}}');
});

test('parse errors say template parsing error', () => {
  const bad: [string, RegExp][] = [
    ['{{.Name', /^template parsing error: template: :1: unclosed action/],
    ['{{if .X}}a', /unexpected EOF/],
    ['{{end}}', /unexpected \{\{end\}\}/],
    ['{{nosuch .X}}', /function "nosuch" not defined/],
    ['{{.Name |}}', /missing command after \|/],
    ['{{"abc}}', /unterminated quoted string/],
    ['{{}}', /missing value for command/],
    ['{{break}}', /outside \{\{range\}\}/],
    ['x\n{{(.A}}', /template: :2: unclosed left paren/],
    ['{{define "x"}}{{end}}', /not supported/],
  ];
  for (const [src, re] of bad) {
    assert.throws(() => compileTemplate(src), (e: unknown) => e instanceof InvalidArgument && re.test(e.message), src);
  }
});

test('execution errors say template parsing error too', () => {
  assert.throws(() => run('{{.Name.Foo}}'), /can't evaluate field Foo in type string/);
  assert.throws(() => run('{{.Name 1}}'), /can't give argument to non-function/);
  assert.throws(() => run('{{range .Name}}{{end}}'), /range can't iterate over web/);
  assert.throws(() => run('{{lt .Name 1}}'), /incompatible types for comparison/);
  assert.throws(() => run('{{$nope}}'), /undefined variable: \$nope/);
  try { run('{{.Name.Foo}}'); } catch (e) {
    assert.ok(e instanceof InvalidArgument);
    assert.match(e.message, /^template parsing error: template: :1:1: executing "" at <\.Name\.Foo>: /);
  }
});

test('a parsed template runs with other functions (table headers)', () => {
  const t = parseTemplate('{{upper .Name}}|{{json .Labels}}|{{.Size}}');
  assert.equal(t.execute({ Name: 'web', Labels: { a: 'b' }, Size: 1 }), 'WEB|{"a":"b"}|1');
  assert.equal(t.execute({ Name: 'NAME', Labels: 'LABELS', Size: 'SIZE' }, HEADER_FUNCTIONS), 'NAME|LABELS|SIZE');
});

test('sprintf edge cases', () => {
  assert.equal(sprintf('%s', [['a', 'b']]), '[a b]');
  assert.equal(sprintf('%6.2f|%-4d|%+d', [3.14159, 7, 5]), '  3.14|7   |+5');
  assert.equal(sprintf('%e', [123456]), '1.234560e+05');
  assert.equal(sprintf('%g', [1e21]), '1e+21');
  assert.equal(sprintf('%.3s', ['abcdef']), 'abc');
  assert.equal(sprintf('x', [1]), 'x%!(EXTRA int=1)');
  assert.equal(formatValue(1e-7), '1e-07');
  assert.equal(formatValue(123456789), '123456789');
});

// Expected outputs below were produced by the docker CLI 28.2 (`docker context ls --format ...`).
test('matches docker CLI output for numbers and case mapping', () => {
  assert.equal(run('{{printf "%v|%g|%v|%v|%v" 1.5e20 1.5e20 1234567.5 0.0001 12345678.25}}'), '1.5e+20|1.5e+20|1.2345675e+06|0.0001|1.234567825e+07');
  assert.equal(run('{{printf "%.1f %.2f %.0f %.1f" 2.25 1.005 2.5 0.05}}'), '2.2 1.00 2 0.1');
  assert.equal(run('{{printf "%v|%6.2f|%e|%g|%x|%X|%o|%c|%+d|%08.3f|%-8q|" true 3.14159 123456.5 0.000012345 255 "hi" 8 65 5 -3.5 "a"}}'),
    'true|  3.14|1.234565e+05|1.2345e-05|ff|6869|10|A|+5|-003.500|"a"     |');
  assert.equal(run('{{1e21}} {{0.00001}}'), '1e+21 1e-05');
  assert.equal(run('{{upper "straße ǆ"}}|{{lower "İX"}}|{{title "élan vital-x_y ǆ"}}'), 'STRAßE Ǆ|ix|Élan Vital-X_y ǅ');
  assert.equal(run('{{print 1 2 "a" "b" 3 true false}}|{{println 1 "a"}}|'), '1 2ab3 true false|1 a\n|');
});
