import { createSettingsHost } from "./kintone-platform";
import { startSettingsPage } from "./settings/settings-page";

const root = document.getElementById("kline-settings");
if (root) void startSettingsPage(createSettingsHost(), root);
