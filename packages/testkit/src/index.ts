export { apiError, messagesText, startMessagesStub, systemText, text, toolUse } from "./messages-stub.js";
