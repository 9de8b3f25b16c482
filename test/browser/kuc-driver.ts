/** Drives kintone UI Component controls the way a user does (clicks and typing), by their class. */
import type { Page } from "playwright-core";

export async function fillText(page: Page, control: string, value: string, nth = 0): Promise<void> {
  await page.locator(`${control} input, ${control} textarea`).nth(nth).fill(value);
}

export async function pickDropdown(page: Page, control: string, label: string, nth = 0): Promise<void> {
  const dropdown = page.locator(control).nth(nth);
  await dropdown.locator("button[aria-haspopup]").click();
  await dropdown.locator('li[role="option"]', { hasText: label }).first().click();
}

export async function dropdownOptions(page: Page, control: string, nth = 0): Promise<string[]> {
  const texts = await page.locator(control).nth(nth).locator('li[role="option"]').allTextContents();
  return texts.map((t) => t.trim());
}

export async function toggleChoice(page: Page, control: string, label: string, nth = 0): Promise<void> {
  await page.locator(control).nth(nth).locator('[role="option"]', { hasText: label }).first().click();
}

export async function selectedChoices(page: Page, control: string, nth = 0): Promise<string[]> {
  const texts = await page.locator(control).nth(nth).locator('[role="option"][aria-selected="true"]').allTextContents();
  return texts.map((t) => t.trim());
}

export async function clickButton(page: Page, control: string, nth = 0): Promise<void> {
  await page.locator(`${control} button`).nth(nth).click();
}

/** The error KUC shows under a control ("" when none). */
export async function controlError(page: Page, control: string, nth = 0): Promise<string> {
  const error = page.locator(control).nth(nth).locator('[role="alert"]').first();
  if ((await error.count()) === 0) return "";
  return ((await error.textContent()) ?? "").trim();
}
