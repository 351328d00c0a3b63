/**
 * Splits streamed text into sentences for speech synthesis: each sentence is emitted as soon as
 * it is known to be complete, so TTS can start on the first one while the model still writes.
 *
 * A sentence ends at a run of `.` `!` `?` `…` (plus closing quotes or brackets) followed by
 * whitespace, or at a line break. `;` is not a terminator: a TTS engine gives each chunk a
 * sentence-final intonation, which sounds wrong on half a sentence.
 *
 * For `.` and `…` the decision waits for the first non-space character after the whitespace
 * (usually in the same token as the space, so it costs no latency): a lowercase letter there means
 * the dot was an abbreviation (`etc. and`, `5 лв. на`) or a pause (`Well… maybe`), not an end.
 * Dots that precede no whitespace (`3.5`, `e.g.` inside a word) never end anything. Titles and
 * Latin abbreviations that are always followed by more text (`Dr.`, `e.g.`, `т.е.`, `напр.`) and
 * single-letter initials (`J. R. R.`) never end a sentence either. `!` and `?` end one as soon as
 * whitespace follows.
 */
export class SentenceSplitter {
  #buffer = "";
  /** Where scanning resumes: everything before it holds no boundary. */
  #from = 0;

  /** Adds a text delta; returns the sentences it completed, trimmed, in order. */
  push(delta: string): string[] {
    this.#buffer += delta;
    return this.#drain(false);
  }

  /** The end of the text: returns what is left (the last sentence, unterminated or not). */
  flush(): string[] {
    const out = this.#drain(true);
    const rest = this.#buffer.trim();
    this.#buffer = "";
    this.#from = 0;
    if (rest !== "") out.push(rest);
    return out;
  }

  #drain(final: boolean): string[] {
    const out: string[] = [];
    for (;;) {
      const found = findBoundary(this.#buffer, this.#from, final);
      if (found.cut === undefined) {
        this.#from = found.resumeAt;
        return out;
      }
      const sentence = this.#buffer.slice(0, found.cut).trim();
      if (sentence !== "") out.push(sentence);
      this.#buffer = this.#buffer.slice(found.cut);
      this.#from = 0;
    }
  }
}

const TERMINATORS = new Set([".", "!", "?", "…"]);
const CLOSERS = new Set(['"', "'", "”", "’", "»", ")", "]"]);
const OPENERS = /^["'“‘«([]+/;

/**
 * Abbreviations that are always followed by more of the same sentence, lowercased with their
 * final dot. Ambiguous ones that often end a sentence (`etc.`, `и т.н.`, `г.` for a year) are left
 * out: the lowercase look-ahead keeps them whole when the sentence goes on.
 */
export const NON_TERMINAL_ABBREVIATIONS: ReadonlySet<string> = new Set([
  // English
  "e.g.",
  "i.e.",
  "mr.",
  "mrs.",
  "ms.",
  "dr.",
  "prof.",
  "st.",
  "jr.",
  "sr.",
  "vs.",
  "cf.",
  "approx.",
  // Bulgarian (г-н, г-жа, д-р are written without a dot; with one, they still never end a sentence)
  "т.е.",
  "напр.",
  "г-н.",
  "г-жа.",
  "д-р.",
  "проф.",
  "инж.",
  "ул.",
  "бул.",
  "гр.",
  "вж.",
  "стр.",
  "т.нар.",
  "вкл.",
]);

type Found = { cut: number; resumeAt?: never } | { cut?: never; resumeAt: number };

const isSpace = (ch: string) => /\s/u.test(ch);
const isLower = (ch: string) => /\p{Ll}/u.test(ch);
const isNewline = (ch: string) => ch === "\n" || ch === "\r";

function findBoundary(buf: string, from: number, final: boolean): Found {
  let i = from;
  while (i < buf.length) {
    const ch = buf[i]!;
    if (isNewline(ch)) return { cut: i + 1 };
    if (!TERMINATORS.has(ch)) {
      i++;
      continue;
    }
    let end = i;
    while (end < buf.length && TERMINATORS.has(buf[end]!)) end++;
    while (end < buf.length && CLOSERS.has(buf[end]!)) end++;
    // More terminators or closers may still arrive: decide later, from this run's start.
    if (end === buf.length) return final ? { cut: end } : { resumeAt: i };
    if (!isSpace(buf[end]!)) {
      i = end;
      continue;
    }
    const run = buf.slice(i, end);
    if (run.includes("!") || run.includes("?")) return { cut: end };
    let next = end;
    while (next < buf.length && isSpace(buf[next]!) && !isNewline(buf[next]!)) next++;
    if (next < buf.length && isNewline(buf[next]!)) return { cut: end };
    if (next === buf.length) return final ? { cut: end } : { resumeAt: i };
    if (dotEndsSentence(run, wordBefore(buf, i), buf[next]!)) return { cut: end };
    i = next;
  }
  return { resumeAt: buf.length };
}

/** The word a terminator run is attached to, without opening quotes or brackets. */
function wordBefore(buf: string, at: number): string {
  let start = at;
  while (start > 0 && !isSpace(buf[start - 1]!)) start--;
  return buf.slice(start, at).replace(OPENERS, "");
}

/** For a run of dots and ellipses followed by whitespace: is it the end, given the next character? */
function dotEndsSentence(run: string, word: string, next: string): boolean {
  if (isLower(next)) return false;
  const marks = [...run].filter((c) => TERMINATORS.has(c)).join("");
  if (marks !== ".") return true;
  if (NON_TERMINAL_ABBREVIATIONS.has(`${word.toLowerCase()}.`)) return false;
  // An initial: "J. R. R. Tolkien", "Д. Иванов".
  if (/^\p{Lu}$/u.test(word)) return false;
  return true;
}
