import { MAX_JOB_IMAGES } from "@claude-gateway/contracts";
import { describe, expect, it } from "vitest";
import { imageSourcesOf, promptOf } from "./input.js";
import type { InputItem, InputMessage, InputPart } from "./request.js";

const PNG_B64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const PNG = `data:image/png;base64,${PNG_B64}`;
const text = (t: string): InputPart => ({ type: "text", text: t });
const image = (url = PNG, param = "p"): InputPart => ({ type: "image", url, param });
const msg = (role: InputMessage["role"], ...parts: InputPart[]): InputMessage => ({
  type: "message",
  role,
  parts,
});

describe("promptOf", () => {
  it("a lone user message is the prompt as it is", () => {
    expect(promptOf({ instructions: null, input: [msg("user", text("Hi"))] })).toBe("Hi");
  });

  it("instructions come first in the instructions, then system and developer messages; earlier turns are the conversation", () => {
    const prompt = promptOf({
      instructions: "Be brief.",
      input: [
        msg("developer", text("No emoji.")),
        msg("user", text("My name is Ada.")),
        msg("assistant", text("Noted.")),
        msg("system", text("Use English.")),
        msg("user", text("What is my name?")),
      ],
    });
    expect(prompt).toBe(
      [
        "Answer the request below as the assistant in the conversation before it, following the instructions.",
        "<instructions>\nBe brief.\n\nNo emoji.\n\nUse English.\n</instructions>",
        "<conversation>\n<user>\nMy name is Ada.\n</user>\n\n<assistant>\nNoted.\n</assistant>\n</conversation>",
        "<request>\nWhat is my name?\n</request>",
      ].join("\n\n"),
    );
  });

  it("blank instructions leave no trace", () => {
    expect(promptOf({ instructions: "  ", input: [msg("user", text("Hi"))] })).toBe("Hi");
  });

  it("each image leaves [image N] where it stood, numbered across the conversation; parts join by newlines", () => {
    const prompt = promptOf({
      instructions: null,
      input: [
        msg("user", image(), text("What is this?")),
        msg("assistant", text("A dot.")),
        msg("user", text("And these?"), image(), image()),
      ],
    });
    expect(prompt).toContain("<user>\n[image 1]\nWhat is this?\n</user>");
    expect(prompt).toContain("<request>\nAnd these?\n[image 2]\n[image 3]\n</request>");
  });
});

describe("imageSourcesOf", () => {
  it("the images in marker order: data URLs decoded, http(s) URLs left to the resolver", () => {
    const sources = imageSourcesOf([
      msg("user", image(PNG, "input[0].content[0].image_url"), text("x")),
      msg("user", image("https://example.com/a.png", "input[1].content[0].image_url")),
    ]);
    expect(sources).toEqual([
      {
        source: { kind: "inline", image: { mediaType: "image/png", data: PNG_B64 } },
        param: "input[0].content[0].image_url",
      },
      {
        source: { kind: "remote", url: new URL("https://example.com/a.png") },
        param: "input[1].content[0].image_url",
      },
    ]);
    expect(imageSourcesOf([msg("user", text("no images"))])).toEqual([]);
  });

  it("refuses more images than a job carries", () => {
    const parts = [...Array(MAX_JOB_IMAGES + 1)].map(() => image());
    expect(() => imageSourcesOf([msg("user", ...parts)])).toThrow(
      expect.objectContaining({ param: "input", code: "too_many_images" }),
    );
  });

  it.each([
    ["file:///etc/passwd", "invalid_image_url"],
    ["data:image/png,abc", "invalid_image_url"],
    ["data:image/svg+xml;base64,PHN2Zz4=", "unsupported_image_type"],
    ["data:image/png;base64,iVBOR$$$", "invalid_image"],
  ])("refuses %s, naming the part", (url, code) => {
    expect(() => imageSourcesOf([msg("user", image(url, "input[0].content[1].image_url"))])).toThrow(
      expect.objectContaining({ param: "input[0].content[1].image_url", code }),
    );
  });
});

describe("promptOf with function calls", () => {
  const call = (callId: string, name: string, args: string): InputItem => ({
    type: "function_call",
    callId,
    name,
    arguments: args,
  });
  const output = (callId: string, out: string): InputItem => ({
    type: "function_call_output",
    callId,
    output: out,
  });

  it("writes earlier calls into the assistant's turn before them and outputs as the tool's turn", () => {
    const prompt = promptOf({
      instructions: null,
      input: [
        msg("user", text("Weather and time in Sofia?")),
        msg("assistant", text("Let me check.")),
        call("c1", "get_weather", '{"city":"Sofia"}'),
        call("c2", "get_time", "{}"),
        output("c1", "12°C"),
        output("c2", "09:00"),
        msg("assistant", text("12°C at 09:00.")),
        msg("user", text("Thanks.")),
      ],
    });
    expect(prompt).toContain(
      [
        "<conversation>",
        "<user>\nWeather and time in Sofia?\n</user>",
        "",
        '<assistant>\nLet me check.\n[called get_weather {"city":"Sofia"}]\n[called get_time {}]\n</assistant>',
        "",
        "<tool>\n[get_weather result: 12°C]\n[get_time result: 09:00]\n</tool>",
        "",
        "<assistant>\n12°C at 09:00.\n</assistant>",
        "</conversation>",
      ].join("\n"),
    );
    expect(prompt).toMatch(/<request>\nThanks\.\n<\/request>$/);
  });

  it("a call without text before it is an assistant turn of its own; an output of a call not in the input has no name", () => {
    const prompt = promptOf({
      instructions: null,
      input: [
        msg("user", text("Go.")),
        call("c1", "f", "{}"),
        output("c9", "done"),
        msg("user", text("And?")),
      ],
    });
    expect(prompt).toContain(
      "<assistant>\n[called f {}]\n</assistant>\n\n<tool>\n[tool result: done]\n</tool>",
    );
  });

  it("an input that ends with outputs (a continuation) is the conversation", () => {
    expect(promptOf({ instructions: null, input: [output("c1", "12°C")] })).toMatch(
      /^Continue the conversation below as the assistant: .*<tool>\n\[tool result: 12°C\]\n<\/tool>\n<\/conversation>$/s,
    );
  });

  it("images of messages only", () => {
    expect(
      imageSourcesOf([call("c1", "f", "{}"), output("c1", "x"), msg("user", image(PNG, "p"))]),
    ).toHaveLength(1);
  });
});
