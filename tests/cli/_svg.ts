/** Checks of the SVG the CLI writes: well-formed XML (Deno has no XML parser) and polyline points. */
import { assert, assertEquals } from "@std/assert";

/** Checks that tags nest and close (no XML parser in Deno): returns the element names in order. */
export function assertWellFormedXml(text: string): string[] {
  const body = text.replace(/^<\?xml[^?]*\?>\s*/, "");
  const stack: string[] = [], names: string[] = [];
  for (
    const [tag, close, name, , selfClose] of body.matchAll(
      /<(\/?)([\w:-]+)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g,
    )
  ) {
    if (close) assertEquals(stack.pop(), name, `</${name}> closes <${stack.at(-1)}>`);
    else {
      names.push(name);
      if (!selfClose) stack.push(name);
    }
    assert(!/&(?!#\d+;|amp;|lt;|gt;|quot;|apos;)/.test(tag), `unescaped & in ${tag}`);
  }
  assertEquals(stack, [], "every element is closed");
  // Nothing but tags and text: no stray '<'.
  assertEquals(body.replace(/<[^>]*>/g, "").includes("<"), false);
  return names;
}

/** The `points` of the polyline with this class, as [x, y] pairs. */
export function polylinePoints(svg: string, name: string): number[][] {
  const match = new RegExp(`<polyline class="${name}"[^>]* points="([^"]*)"`).exec(svg);
  if (match === null) throw new Error(`no polyline '${name}'`);
  return match[1].split(" ").filter(Boolean).map((p) => p.split(",").map(Number));
}
