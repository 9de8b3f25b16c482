import type { messagingApi } from "@line/bot-sdk";
import { z } from "zod";
import { createLineLookup, type ProfileClientOptions } from "./profile-client.js";

/**
 * A group's name, so the settings page can offer groups by name: LINE's "Get group chat summary",
 * `GET /v2/bot/group/{groupId}/summary` -> `{groupId, groupName, pictureUrl?}`
 * (https://developers.line.biz/en/reference/messaging-api/#get-group-summary), through the SDK's
 * `getGroupSummary` with the profile lookups' token, timeout and errors (profile-client.ts).
 *
 * Groups only: a multi-person chat (room) has no name of its own, its members' names stand in
 * for one, and LINE offers no summary for it
 * (https://developers.line.biz/en/docs/messaging-api/group-chats/#multi-person-chats).
 * A read, neither a push nor a reply: the webhook side may use it.
 */
export interface GroupSummaryClient {
  /** The group's name, or undefined when LINE does not know the group (404). Throws LineProfileError on other failures (retryable unless a 4xx other than 401/429). */
  groupName(groupId: string): Promise<string | undefined>;
}

/** The one property we read of messagingApi.GroupSummaryResponse. */
const summarySchema = z.object({ groupName: z.string() }) satisfies z.ZodType<Pick<messagingApi.GroupSummaryResponse, "groupName">>;

export function createGroupSummaryClient(options: ProfileClientOptions): GroupSummaryClient {
  const lookup = createLineLookup(options, "LINE group summary");
  return {
    async groupName(groupId) {
      const summary = await lookup((client) => client.getGroupSummary(encodeURIComponent(groupId)), summarySchema);
      return summary?.groupName;
    },
  };
}
