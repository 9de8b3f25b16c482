/**
 * The form bodies of LINE's channel access token endpoints. @line/bot-sdk passes these as method
 * parameters and publishes no type for the body, so they are written here from the reference
 * (https://developers.line.biz/en/reference/messaging-api/#issue-stateless-channel-access-token,
 * #issue-channel-access-token-v2-1, #revoke-channel-access-token-v2-1) and turned into the
 * contract with the SDK's types by scripts/write-line-contract.ts. `npm run check:line-contract`
 * holds them against LINE's OpenAPI spec.
 */

/** POST /oauth2/v3/token with a JWT assertion. */
export type IssueStatelessChannelTokenByJWTAssertionRequest = {
  grant_type: "client_credentials";
  client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
  client_assertion: string;
};

/** POST /oauth2/v3/token with the channel ID and secret. */
export type IssueStatelessChannelTokenByClientSecretRequest = {
  grant_type: "client_credentials";
  client_id: string;
  client_secret: string;
};

/** POST /oauth2/v3/token: one of the two forms. */
export type IssueStatelessChannelTokenRequest =
  | IssueStatelessChannelTokenByJWTAssertionRequest
  | IssueStatelessChannelTokenByClientSecretRequest;

/** POST /oauth2/v2.1/token. */
export type IssueChannelTokenByJWTRequest = {
  grant_type: string;
  client_assertion_type: string;
  client_assertion: string;
};

/** POST /oauth2/v2.1/revoke. */
export type RevokeChannelTokenByJWTRequest = {
  client_id: string;
  client_secret: string;
  access_token: string;
};
