/** What the settings page says when Save fails or finds the two saved stores disagreeing (ja / en). */
export interface SaveMessages {
  saveFailed(step: "proxyConfig" | "config", detail: string): string;
  inconsistent(problem: "proxyMissing" | "rulesDiffer"): string;
  saveAgain: string;
}

const ja: SaveMessages = {
  saveFailed: (step, detail) =>
    step === "proxyConfig"
      ? `保存できませんでした（中継サーバーへの送信設定の保存に失敗）。もう一度「保存」を押してください。詳細：${detail}`
      : `保存できませんでした（プラグイン設定の保存に失敗）。中継サーバーには新しいルールが届く状態です。もう一度「保存」を押してください。詳細：${detail}`,
  inconsistent: (problem) =>
    problem === "proxyMissing"
      ? "前回の保存が途中で終わりました。中継サーバーへの送信設定がありません。「もう一度保存」を押して直してください。"
      : "前回の保存が途中で終わりました。中継サーバーが受け取るルールと、この画面のルールが違います。「もう一度保存」を押すと、この画面のルールで揃えます。",
  saveAgain: "もう一度保存",
};

const en: SaveMessages = {
  saveFailed: (step, detail) =>
    step === "proxyConfig"
      ? `Not saved (the settings sent to the relay could not be saved). Press Save again. Details: ${detail}`
      : `Not saved (the plugin settings could not be saved; the relay already receives the new rules). Press Save again. Details: ${detail}`,
  inconsistent: (problem) =>
    problem === "proxyMissing"
      ? "The last save did not finish: the settings sent to the relay are missing. Press “Save again” to repair them."
      : "The last save did not finish: the rules the relay receives differ from the rules shown here. Press “Save again” to save the rules shown here to both.",
  saveAgain: "Save again",
};

export function saveMessages(language: string): SaveMessages {
  return language === "ja" ? ja : en;
}
