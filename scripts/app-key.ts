// `npm run app-key -- <appId>`: prints the key the plugin of kintone app <appId> saves as its
// bearer (Authorization: Bearer <key>, with X-Relay-App: <appId>). Reads RELAY_SECRET as the relay
// does (environment, then .env); the key is derived from the current (first) secret.
import { APP_ID_PATTERN, deriveAppKey } from "../relay/src/http/app-key.js";
import { loadDotEnv, readRelaySecrets } from "../relay/src/settings.js";

loadDotEnv();
const appId = process.argv[2]?.trim() ?? "";
if (!APP_ID_PATTERN.test(appId)) {
  console.error(
    appId === ""
      ? "usage: npm run app-key -- <appId>   (the kintone app ID, a positive whole number)"
      : `app-key: "${appId}" is not a kintone app ID (a positive whole number, as in /k/<appId>/ of the app's URL)`,
  );
  process.exit(2);
}
const problems: string[] = [];
const [current] = readRelaySecrets(process.env, problems);
if (problems.length > 0 || current === undefined) {
  console.error(`app-key: ${problems[0] ?? "RELAY_SECRET: missing"}`);
  process.exit(1);
}
console.log(deriveAppKey(current, appId));
