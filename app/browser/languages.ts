/*
 * Monarch grammars monaco lacks: GNU as (AT&T x86 syntax, incl. .S with cpp lines), Makefiles,
 * and GNU ld linker scripts. Registered by id, file extensions and file names.
 */
import type * as Monaco from 'monaco-editor/editor/editor.api.js';

type M = typeof Monaco;

const gas: Monaco.languages.IMonarchLanguage = {
  defaultToken: '',
  ignoreCase: false,
  tokenizer: {
    root: [
      [/^\s*#\s*(?:include|define|undef|if|ifdef|ifndef|elif|else|endif|error|pragma)\b.*$/, 'keyword.directive'],
      [/#.*$/, 'comment'],
      [/\/\/.*$/, 'comment'],
      [/\/\*/, 'comment', '@comment'],
      [/^\s*[A-Za-z_.$][\w.$]*:/, 'type.identifier'],
      [/^\s*\d+:/, 'type.identifier'],
      [/^(\s*)(\.[A-Za-z_][\w]*)/, ['', 'keyword']],
      [/^(\s*)([A-Za-z][A-Za-z0-9]*)(?=\s|$)/, ['', 'keyword.instruction']],
      [/%[a-z][a-z0-9]*/, 'variable.predefined'],
      [/\$(?:0x[0-9a-fA-F]+|-?\d+)/, 'number'],
      [/\$[A-Za-z_.][\w.]*/, 'constant'],
      [/0x[0-9a-fA-F]+|0b[01]+|\d+[bf]?/, 'number'],
      [/"(?:[^"\\]|\\.)*"/, 'string'],
      [/'(?:[^'\\]|\\.)'?/, 'string'],
      [/[A-Z_][A-Z0-9_]{2,}/, 'constant'],
      [/[A-Za-z_.][\w.$]*/, 'identifier'],
    ],
    comment: [
      [/[^/*]+/, 'comment'],
      [/\*\//, 'comment', '@pop'],
      [/[/*]/, 'comment'],
    ],
  },
};

const makefile: Monaco.languages.IMonarchLanguage = {
  defaultToken: '',
  keywords: ['include', '-include', 'sinclude', 'ifeq', 'ifneq', 'ifdef', 'ifndef', 'else', 'endif', 'define', 'endef', 'export', 'unexport', 'override', 'private', 'vpath'],
  tokenizer: {
    root: [
      [/^\t/, '', '@recipe'],
      [/#.*$/, 'comment'],
      [/^\s*(?:-?include|sinclude|ifeq|ifneq|ifdef|ifndef|else|endif|define|endef|export|unexport|override|vpath)\b/, 'keyword'],
      [/^\s*[A-Za-z_][\w.-]*(?=\s*(?:[:+?!]?=|::=))/, 'variable'],
      [/^[^\s:=#][^:=#]*(?=::?(?!=))/, 'type'],
      { include: '@vars' },
      [/"(?:[^"\\]|\\.)*"/, 'string'],
      [/'[^']*'/, 'string'],
      [/[:+?!]?=/, 'operator'],
    ],
    recipe: [
      [/$/, '', '@pop'],
      [/#.*$/, 'comment'],
      { include: '@vars' },
      [/"(?:[^"\\]|\\.)*"/, 'string'],
      [/'[^']*'/, 'string'],
      [/^@/, 'keyword'],
      [/[^$"'#]+/, ''],
    ],
    vars: [
      [/\$\((?:(?:subst|patsubst|strip|findstring|filter|filter-out|sort|word|words|wordlist|firstword|lastword|dir|notdir|suffix|basename|addsuffix|addprefix|join|wildcard|realpath|abspath|if|or|and|foreach|call|value|eval|origin|flavor|shell|error|warning|info)\b)/, 'keyword', '@paren'],
      [/\$\(/, 'variable', '@paren'],
      [/\$\{[^}]*\}/, 'variable'],
      [/\$[@<^?*%+|$]|\$[A-Za-z]/, 'variable.predefined'],
    ],
    paren: [
      [/\)/, 'variable', '@pop'],
      { include: '@vars' },
      [/[^$()]+/, 'variable'],
      [/\(/, 'variable', '@paren'],
    ],
  },
};

const linkerScript: Monaco.languages.IMonarchLanguage = {
  defaultToken: '',
  keywords: [
    'ENTRY', 'SECTIONS', 'MEMORY', 'PHDRS', 'OUTPUT_FORMAT', 'OUTPUT_ARCH', 'OUTPUT', 'INPUT', 'GROUP', 'SEARCH_DIR',
    'STARTUP', 'TARGET', 'INCLUDE', 'ALIGN', 'ALIGNOF', 'SIZEOF', 'ADDR', 'LOADADDR', 'KEEP', 'PROVIDE', 'PROVIDE_HIDDEN',
    'HIDDEN', 'ASSERT', 'AT', 'SUBALIGN', 'ORIGIN', 'LENGTH', 'FILEHDR', 'PT_LOAD', 'PT_NULL', 'PT_DYNAMIC', 'PT_NOTE',
    'PT_PHDR', 'PT_TLS', 'PT_GNU_STACK', 'FLAGS', 'NOLOAD', 'DSECT', 'COPY', 'INFO', 'OVERLAY', 'DISCARD', 'SORT',
    'SORT_BY_NAME', 'SORT_BY_ALIGNMENT', 'BYTE', 'SHORT', 'LONG', 'QUAD', 'FILL', 'CREATE_OBJECT_SYMBOLS', 'CONSTRUCTORS',
    'DEFINED', 'ABSOLUTE', 'MAX', 'MIN', 'NEXT', 'BLOCK', 'SEGMENT_START', 'DATA_SEGMENT_ALIGN', 'DATA_SEGMENT_END',
    'EXCLUDE_FILE', 'COMMON', 'ONLY_IF_RO', 'ONLY_IF_RW', 'INSERT', 'AFTER', 'BEFORE', 'NOCROSSREFS',
  ],
  tokenizer: {
    root: [
      [/\/\*/, 'comment', '@comment'],
      [/\/DISCARD\//, 'keyword'],
      [/[A-Z_][A-Z0-9_]*(?=\s*\()/, { cases: { '@keywords': 'keyword', '@default': 'identifier' } }],
      [/[A-Z_][A-Z0-9_]*\b/, { cases: { '@keywords': 'keyword', '@default': 'constant' } }],
      [/\.[A-Za-z_][\w.]*/, 'type'],
      [/\.(?![\w])/, 'variable.predefined'],
      [/0x[0-9a-fA-F]+[KM]?|\d+[KM]?/, 'number'],
      [/"[^"]*"/, 'string'],
      [/\*\([^)]*\)/, 'type'],
      [/[A-Za-z_][\w.]*/, 'identifier'],
      [/[{}()[\];,]/, 'delimiter'],
      [/[=+\-*/<>&|!:?]+/, 'operator'],
    ],
    comment: [
      [/[^/*]+/, 'comment'],
      [/\*\//, 'comment', '@pop'],
      [/[/*]/, 'comment'],
    ],
  },
};

export function registerOsLanguages(monaco: M): void {
  monaco.languages.register({ id: 'gas', extensions: ['.s', '.S', '.asm', '.inc'], aliases: ['GNU Assembler (x86)', 'gas', 'asm'] });
  monaco.languages.setMonarchTokensProvider('gas', gas);
  monaco.languages.setLanguageConfiguration('gas', { comments: { lineComment: '#', blockComment: ['/*', '*/'] } });
  monaco.languages.register({ id: 'makefile', extensions: ['.mk', '.make'], filenames: ['Makefile', 'makefile', 'GNUmakefile'], aliases: ['Makefile', 'make'] });
  monaco.languages.setMonarchTokensProvider('makefile', makefile);
  monaco.languages.setLanguageConfiguration('makefile', { comments: { lineComment: '#' }, brackets: [['(', ')'], ['{', '}']] });
  monaco.languages.register({ id: 'linkerscript', extensions: ['.ld', '.lds', '.x'], aliases: ['Linker script', 'ld'] });
  monaco.languages.setMonarchTokensProvider('linkerscript', linkerScript);
  monaco.languages.setLanguageConfiguration('linkerscript', { comments: { blockComment: ['/*', '*/'] }, brackets: [['{', '}'], ['(', ')']] });
  monaco.languages.register({ id: 'json', extensions: ['.json'], aliases: ['JSON'] });
  monaco.languages.register({ id: 'toml', extensions: ['.toml'], aliases: ['TOML'] });
  monaco.languages.setMonarchTokensProvider('toml', {
    tokenizer: {
      root: [
        [/#.*$/, 'comment'],
        [/^\s*\[\[?[^\]]+\]\]?/, 'type'],
        [/[A-Za-z0-9_.-]+(?=\s*=)/, 'variable'],
        [/"(?:[^"\\]|\\.)*"/, 'string'],
        [/'[^']*'/, 'string'],
        [/0x[0-9a-fA-F_]+|-?\d[\d_]*(?:\.\d+)?/, 'number'],
        [/\b(?:true|false)\b/, 'keyword'],
      ],
    },
  });
  monaco.languages.setMonarchTokensProvider('json', {
    tokenizer: {
      root: [
        [/"(?:[^"\\]|\\.)*"(?=\s*:)/, 'variable'],
        [/"(?:[^"\\]|\\.)*"/, 'string'],
        [/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/, 'number'],
        [/\b(?:true|false|null)\b/, 'keyword'],
      ],
    },
  });
}
