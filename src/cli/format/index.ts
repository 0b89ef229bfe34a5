export { humanSize, bytesSize, humanDuration, ago, parseSize, fromHumanSize, formatG, formatFixed, formatExp } from './units.js';
export {
  compileTemplate, parseTemplate, expandEscapes, formatValue, goJson, sprintf, HEADER_FUNCTIONS,
  type TemplateOptions, type ParsedTemplate, type TemplateFunc,
} from './template.js';
export { renderTable, tabwrite, displayWidth, isTableFormat, type RenderOptions, type TabwriterOptions } from './table.js';
