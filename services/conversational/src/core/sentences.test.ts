import { describe, expect, it } from "vitest";
import { SentenceSplitter } from "./sentences.js";

/** Every sentence of a complete text, pushed in one piece. */
function splitSentences(text: string): string[] {
  const splitter = new SentenceSplitter();
  return [...splitter.push(text), ...splitter.flush()];
}

/** Feeds `text` in pieces of `size` characters; returns what each push emitted, then the flush. */
function feed(text: string, size: number): { pushes: string[][]; flushed: string[] } {
  const s = new SentenceSplitter();
  const pushes: string[][] = [];
  for (let i = 0; i < text.length; i += size) pushes.push(s.push(text.slice(i, i + size)));
  return { pushes, flushed: s.flush() };
}

/** The same sentences come out however the text is cut into deltas. */
function expectStable(text: string, sentences: string[]): void {
  expect(splitSentences(text)).toEqual(sentences);
  for (const size of [1, 2, 3, 5, 8, 13]) {
    const { pushes, flushed } = feed(text, size);
    expect([...pushes.flat(), ...flushed], `chunk size ${size}`).toEqual(sentences);
  }
  // Every cut into two deltas.
  for (let cut = 0; cut <= text.length; cut++) {
    const s = new SentenceSplitter();
    const got = [...s.push(text.slice(0, cut)), ...s.push(text.slice(cut)), ...s.flush()];
    expect(got, `cut at ${cut}`).toEqual(sentences);
  }
}

describe("SentenceSplitter: where sentences end", () => {
  it.each([
    ["Hello there. How are you?", ["Hello there.", "How are you?"]],
    ["Stop! Now.", ["Stop!", "Now."]],
    ["Really?! Yes.", ["Really?!", "Yes."]],
    ["Здравей. Как си? Добре съм!", ["Здравей.", "Как си?", "Добре съм!"]],
    ["He said “hi.” Then he left.", ["He said “hi.”", "Then he left."]],
    ['She asked "why?" Nobody knew.', ['She asked "why?"', "Nobody knew."]],
    ["(It was late.) We went home.", ["(It was late.)", "We went home."]],
    ["Born in 1990. Then school.", ["Born in 1990.", "Then school."]],
    ["No. I do not think so.", ["No.", "I do not think so."]],
    ["Hmm… Let me think.", ["Hmm…", "Let me think."]],
    ["Wait... What now?", ["Wait...", "What now?"]],
    ["Line one\nLine two", ["Line one", "Line two"]],
    ["First.\n\nSecond.", ["First.", "Second."]],
    ["One.  Two.", ["One.", "Two."]],
    ["Tabs.\tToo.", ["Tabs.", "Too."]],
    ['Quote next. "Yes," she said.', ["Quote next.", '"Yes," she said.']],
  ])("%j", (text, sentences) => {
    expectStable(text, sentences);
  });
});

describe("SentenceSplitter: what is not an end", () => {
  it.each([
    ["It costs 3.5 euro. Cheap.", ["It costs 3.5 euro.", "Cheap."]],
    ["Pi is 3.14159 roughly.", ["Pi is 3.14159 roughly."]],
    ["Температурата е 21.5 градуса. Хубаво.", ["Температурата е 21.5 градуса.", "Хубаво."]],
    ["Use a fruit, e.g. Apples or pears. Fine.", ["Use a fruit, e.g. Apples or pears.", "Fine."]],
    ["That is, i.e. Sofia, the capital. Yes.", ["That is, i.e. Sofia, the capital.", "Yes."]],
    ["Ask Mr. Smith and Dr. Jones. They know.", ["Ask Mr. Smith and Dr. Jones.", "They know."]],
    ["Mrs. Brown and Prof. Green came.", ["Mrs. Brown and Prof. Green came."]],
    ["Това е т.е. Истината. Да.", ["Това е т.е. Истината.", "Да."]],
    ["Вземи плод, напр. Ябълка. Добре.", ["Вземи плод, напр. Ябълка.", "Добре."]],
    ["Питай г-н Иванов и д-р Петрова. Те знаят.", ["Питай г-н Иванов и д-р Петрова.", "Те знаят."]],
    ["Питай г-н. Иванов. Той знае.", ["Питай г-н. Иванов.", "Той знае."]],
    ["Apples, pears etc. are fruit. Yes.", ["Apples, pears etc. are fruit.", "Yes."]],
    ["Apples, pears etc. They are fruit.", ["Apples, pears etc.", "They are fruit."]],
    ["Струва 5 лв. на килограм. Евтино.", ["Струва 5 лв. на килограм.", "Евтино."]],
    ["През 1990 г. започна. После спря.", ["През 1990 г. започна.", "После спря."]],
    ["През 1990 г. Тогава бях малък.", ["През 1990 г.", "Тогава бях малък."]],
    ["Well… maybe not. Okay.", ["Well… maybe not.", "Okay."]],
    ["So... what then? Fine.", ["So... what then?", "Fine."]],
    ["Хм… може би. Да.", ["Хм… може би.", "Да."]],
    ["J. R. R. Tolkien wrote it. Yes.", ["J. R. R. Tolkien wrote it.", "Yes."]],
    ["Д. Иванов дойде. Добре.", ["Д. Иванов дойде.", "Добре."]],
    ["Visit example.com today. Now.", ["Visit example.com today.", "Now."]],
    ["Version 2.1.197 is out.", ["Version 2.1.197 is out."]],
    ["Really?Yes.", ["Really?Yes."]],
  ])("%j", (text, sentences) => {
    expectStable(text, sentences);
  });
});

describe("SentenceSplitter: streaming behaviour", () => {
  it("emits a sentence as soon as the next word starts, not at the end", () => {
    const s = new SentenceSplitter();
    expect(s.push("Hello there")).toEqual([]);
    expect(s.push(".")).toEqual([]);
    expect(s.push(" ")).toEqual([]);
    expect(s.push("H")).toEqual(["Hello there."]);
    expect(s.push("ow are you? I")).toEqual(["How are you?"]);
    expect(s.flush()).toEqual(["I"]);
  });

  it("`!` and `?` need only the whitespace after them", () => {
    const s = new SentenceSplitter();
    expect(s.push("Wow!")).toEqual([]);
    expect(s.push(" ")).toEqual(["Wow!"]);
    expect(s.push('Why?"')).toEqual([]);
    expect(s.push(" ")).toEqual(['Why?"']);
    expect(s.push("ok")).toEqual([]);
  });

  it("waits while the terminator run or its closers may continue", () => {
    const s = new SentenceSplitter();
    expect(s.push("Wait.")).toEqual([]);
    expect(s.push(".")).toEqual([]);
    expect(s.push(".")).toEqual([]);
    expect(s.push(" So")).toEqual(["Wait..."]);
    expect(s.push(" he said “no.")).toEqual([]);
    expect(s.push("” Then")).toEqual(["So he said “no.”"]);
  });

  it("a line break ends a sentence at once, without look-ahead", () => {
    const s = new SentenceSplitter();
    expect(s.push("A heading without a dot\n")).toEqual(["A heading without a dot"]);
  });

  it("flush returns the rest, trimmed, and nothing for whitespace", () => {
    const s = new SentenceSplitter();
    expect(s.push("  Last words without a dot  ")).toEqual([]);
    expect(s.flush()).toEqual(["Last words without a dot"]);
    expect(s.flush()).toEqual([]);
    expect(s.push("   \n ")).toEqual([]);
    expect(s.flush()).toEqual([]);
  });

  it("flush decides a pending terminator at the very end", () => {
    const s = new SentenceSplitter();
    expect(s.push("One. Two. ")).toEqual(["One."]);
    expect(s.flush()).toEqual(["Two."]);
  });

  it("is reusable after flush", () => {
    const s = new SentenceSplitter();
    expect(s.push("First message. Ends")).toEqual(["First message."]);
    expect(s.flush()).toEqual(["Ends"]);
    expect(s.push("Second. Message")).toEqual(["Second."]);
    expect(s.flush()).toEqual(["Message"]);
  });

  it("empty input gives nothing", () => {
    expect(splitSentences("")).toEqual([]);
    expect(splitSentences("...")).toEqual(["..."]);
  });

  it("a long reply fed in small chunks gives its sentences in order, each once", () => {
    const sentences = Array.from({ length: 30 }, (_, i) => `Sentence number ${i} is here, e.g. Dr. No.`);
    const text = sentences.join(" ");
    expect(splitSentences(text)).toEqual(sentences);
    const { pushes, flushed } = feed(text, 7);
    expect([...pushes.flat(), ...flushed]).toEqual(sentences);
    // All but the last are emitted before the end.
    expect(pushes.flat()).toHaveLength(29);
  });
});
