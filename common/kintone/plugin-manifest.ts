/** The parts of a kintone plugin manifest.json (manifest_version 1) that the build and the page emulator read. */
export interface PluginManifest {
  manifest_version: number;
  version: string | number;
  type: string;
  name: Record<string, string>;
  description?: Record<string, string>;
  icon: string;
  desktop?: { js?: string[]; css?: string[] };
  mobile?: { js?: string[]; css?: string[] };
  config?: { html?: string; js?: string[]; css?: string[]; required_params?: string[] };
}

/** Every local file the manifest names (URLs excluded), as kintone's packer collects them. */
export function manifestFiles(manifest: Pick<PluginManifest, "icon" | "desktop" | "mobile" | "config">): string[] {
  const files = [
    ...(manifest.desktop?.js ?? []),
    ...(manifest.desktop?.css ?? []),
    ...(manifest.mobile?.js ?? []),
    ...(manifest.mobile?.css ?? []),
    ...(manifest.config?.js ?? []),
    ...(manifest.config?.css ?? []),
    ...(manifest.config?.html ? [manifest.config.html] : []),
    manifest.icon,
  ].filter((file) => !/^https?:\/\//.test(file));
  return [...new Set(files)];
}
