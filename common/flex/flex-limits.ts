/** LINE's limits that the builder keeps (platform-facts.md, "Flex Message limits"). */
export const FLEX_LIMITS = {
  altText: 1500,
  actionLabel: 40,
  postbackData: 300,
  displayText: 300,
  uri: 1000,
  /** Bubble JSON <= 30 KB; kept at 30,000 UTF-8 bytes to stay clear of either reading of "KB". */
  bubbleBytes: 30_000,
} as const;
