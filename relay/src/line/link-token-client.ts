import type { messagingApi } from "@line/bot-sdk";
import { z } from "zod";
import { callLine, type LineCallOutcome, type LineHttpOptions } from "./line-http.js";

/**
 * LINE's account link starts here: "Issue link token", `POST /v2/bot/user/{userId}/linkToken`
 * without a body -> `{linkToken}`, valid 10 minutes and once
 * (https://developers.line.biz/en/reference/messaging-api/#issue-link-token). The token goes to
 * LINE's account-link page, which checks that the person opening it is that LINE user
 * (https://developers.line.biz/en/docs/messaging-api/linking-accounts/). Neither a push nor a
 * reply: the webhook side (the `connect` command) uses it.
 */
export interface LinkTokenClient {
  issueLinkToken(userId: string): Promise<LineCallOutcome<messagingApi.IssueLinkTokenResponse>>;
}

const issueAnswerSchema = z.object({ linkToken: z.string().min(1) }) satisfies z.ZodType<messagingApi.IssueLinkTokenResponse>;

export function createLinkTokenClient(options: LineHttpOptions): LinkTokenClient {
  return {
    issueLinkToken: (userId) => callLine(options, { path: `/v2/bot/user/${encodeURIComponent(userId)}/linkToken`, body: "", response: issueAnswerSchema }),
  };
}
