export const PETI_CLI_VERSION = '0.1.0';
