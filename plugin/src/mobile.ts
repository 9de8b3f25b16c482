import { createRecordPageHost } from "./kintone-platform";
import { startRecordPage } from "./record-page";

startRecordPage(createRecordPageHost(true));
