/**
 * kintone UI Component, imported per component (the package index registers every component),
 * plus small helpers that turn its CustomEvents into typed callbacks.
 */
import { Button } from "kintone-ui-component/lib/button";
import { Checkbox } from "kintone-ui-component/lib/checkbox";
import { Dropdown } from "kintone-ui-component/lib/dropdown";
import { MultiChoice } from "kintone-ui-component/lib/multichoice";
import { Notification } from "kintone-ui-component/lib/notification";
import { RadioButton } from "kintone-ui-component/lib/radio-button";
import { Text } from "kintone-ui-component/lib/text";
import { TextArea } from "kintone-ui-component/lib/textarea";

export { Button, Checkbox, Dropdown, MultiChoice, Notification, RadioButton, Text, TextArea };

type ValueDetail<T> = { value?: T };

/** Calls `handler` with the new value on every `change` (and, for text, every `input`). */
export function onValue<T>(
  component: HTMLElement,
  handler: (value: T) => void,
  events: ("change" | "input")[] = ["change"],
): void {
  for (const type of events) {
    component.addEventListener(type, (event) => {
      const detail = (event as CustomEvent<ValueDetail<T>>).detail;
      if (detail && detail.value !== undefined) handler(detail.value);
    });
  }
}
