/**
 * The examples' few flags (`--epochs 2`, `--limit 1000`, `--save dir`), read
 * from Deno.args without a dependency. Unknown flags are an error that says
 * which flags the example takes.
 */

/** Parses `--name value` pairs; `defaults` names the flags and gives their defaults. */
export function parseFlags<T extends Record<string, number | string | boolean>>(
  defaults: T,
  args: string[] = Deno.args,
): T {
  const flags: Record<string, number | string | boolean> = { ...defaults };
  for (let i = 0; i < args.length; i++) {
    const name = args[i].replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!args[i].startsWith("--") || !(name in defaults)) {
      const known = Object.keys(defaults).map((k) =>
        `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
      );
      throw new Error(`unknown argument ${args[i]}: this example takes ${known.join(", ")}`);
    }
    const kind = typeof defaults[name];
    if (kind === "boolean") {
      flags[name] = true;
      continue;
    }
    const value = args[++i];
    if (value === undefined) throw new Error(`${args[i - 1]} needs a value`);
    flags[name] = kind === "number" ? Number(value) : value;
    if (kind === "number" && !Number.isFinite(flags[name])) {
      throw new Error(`${args[i - 1]}: not a number: ${value}`);
    }
  }
  return flags as T;
}
