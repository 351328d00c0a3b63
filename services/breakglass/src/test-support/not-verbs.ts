/** Everything that is not exactly a verb: injection, look-alikes, path tricks, case, whitespace. */
export const NOT_VERBS: string[] = [
  "",
  " ",
  "Reset",
  "RESET",
  "reset ",
  " reset",
  "reset\n",
  "reset\nstatus",
  "reset\r",
  "reset\t",
  "reset; rm -rf /",
  "reset && reboot",
  "reset | sh",
  "reset`id`",
  "$(reset)",
  "$(id)",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, on purpose
  "${IFS}reset",
  "status;id",
  "status --verbose",
  "status 999",
  "reset\u0000",
  "re\u200bset", // zero-width space
  "\u0440eset", // Cyrillic 'р'
  "rеset", // Cyrillic 'е'
  "ｒｅｓｅｔ", // full-width
  "reset\u00a0", // no-break space
  "../reset",
  "./reset",
  "/usr/sbin/qm",
  "reset/../status",
  "%72eset",
  "qm reset 102",
  "list",
  "destroy",
  "shutdown",
  "reboot",
  "__proto__",
  "constructor",
  "toString",
];
