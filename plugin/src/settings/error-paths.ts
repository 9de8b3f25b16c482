/**
 * Puts validation errors next to the control they are about. Controls register the path they
 * edit ("rules.0.message.title"); an error goes to the control with the longest registered
 * prefix of its path, so an error deep inside a rule lands at least on the rule itself.
 */
export type ErrorPath = string | readonly (string | number)[];

/** "rules[0].trigger", "/rules/0/trigger", ["rules", 0, "trigger"] -> "rules.0.trigger". */
export function normalizePath(path: ErrorPath): string {
  if (Array.isArray(path)) return path.join(".");
  return String(path)
    .replace(/^\$\.?/, "")
    .replace(/\[(\d+)\]/g, ".$1")
    .replace(/\//g, ".")
    .replace(/^\.+|\.+$/g, "")
    .replace(/\.{2,}/g, ".");
}

export class ErrorBoard {
  private readonly sinks = new Map<string, (message: string) => void>();
  private readonly shown = new Map<string, string[]>();

  register(path: string, show: (message: string) => void): void {
    this.sinks.set(path, show);
  }

  clear(): void {
    for (const show of this.sinks.values()) show("");
    this.shown.clear();
  }

  /** Drops the sinks strictly below `prefix` (a list re-renders its rows; the list keeps its own). */
  forgetBelow(prefix: string): void {
    for (const key of [...this.sinks.keys()]) if (key.startsWith(`${prefix}.`)) this.sinks.delete(key);
  }

  /** Drops sinks of controls that no longer exist (the editor re-renders a rule). */
  forgetUnder(prefix: string): void {
    for (const key of [...this.sinks.keys()]) {
      if (key === prefix || key.startsWith(`${prefix}.`)) this.sinks.delete(key);
    }
  }

  /**
   * Shows each error at its control (only where `visible(controlPath)` says so: a fresh form is
   * not covered in red before the admin has touched it); returns the errors no control took.
   */
  show(
    errors: { path: ErrorPath; message: string }[],
    visible: (controlPath: string) => boolean = () => true,
  ): { path: string; message: string }[] {
    this.clear();
    const orphans: { path: string; message: string }[] = [];
    for (const error of errors) {
      const path = normalizePath(error.path);
      let key: string | undefined = path;
      while (key !== undefined && !this.sinks.has(key)) {
        const cut = key.lastIndexOf(".");
        key = cut < 0 ? (key === "" ? undefined : "") : key.slice(0, cut);
        if (key === "" && !this.sinks.has("")) key = undefined;
      }
      if (key === undefined) {
        orphans.push({ path, message: error.message });
        continue;
      }
      if (!visible(key)) continue;
      const list = this.shown.get(key) ?? [];
      list.push(key === path ? error.message : `${path.slice(key.length + 1)}: ${error.message}`);
      this.shown.set(key, list);
      this.sinks.get(key)?.(list.join(" / "));
    }
    return orphans;
  }
}
