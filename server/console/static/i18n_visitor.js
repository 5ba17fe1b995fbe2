// Console strings of one area, in English and German; i18n.js merges them
// into its dictionaries. Keys are unique across all i18n files.

export const en = {
};

export const de = {
};
