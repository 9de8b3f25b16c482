// Builds the plugin's three browser scripts (npm run build; packing is scripts/build-plugin.ts).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EsbuildPlugin } from "esbuild-loader";

const root = path.dirname(fileURLToPath(import.meta.url));

export default (_env, argv) => ({
  mode: argv.mode ?? "production",
  target: ["web", "es2020"],
  context: root,
  entry: {
    desktop: "./plugin/src/desktop.ts",
    mobile: "./plugin/src/mobile.ts",
    config: "./plugin/src/config.ts",
  },
  output: {
    path: path.join(root, "plugin/dist"),
    filename: "[name].js",
    clean: true,
    // kintone loads each script as a classic <script>: no chunks, no runtime public path.
    iife: true,
  },
  resolve: {
    extensions: [".ts", ".js"],
    // Sources written for Node ESM import "./x.js" for "./x.ts".
    extensionAlias: { ".js": [".ts", ".js"] },
  },
  module: {
    rules: [{ test: /\.ts$/, loader: "esbuild-loader", options: { target: "es2020" } }],
  },
  optimization: {
    splitChunks: false,
    minimizer: [new EsbuildPlugin({ target: "es2020", legalComments: "none" })],
  },
  devtool: false,
  performance: { hints: false },
});
