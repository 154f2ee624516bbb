// Authentication and topic authorisation for the embedded MQTT broker.
export {
  type AedesAuthHooks,
  type BrokerAuth,
  type BrokerAuthOptions,
  createBrokerAuth,
  DROPPED_TOPIC,
  installPreConnect,
  type RefusalReason,
} from "./broker-auth.ts";
export { AuthError, type AuthErrorCode, ConnectRefusedError, UsersFileError } from "./errors.ts";
export { assertListenSafe, checkListenSafety, isLoopbackHost } from "./listen-safety.ts";
export { CERT_ONLY, DEFAULT_SCRYPT_COST, hashPassword, type ScryptCost, verifyPassword } from "./password.ts";
export { certUsername, verifiedPeerName } from "./peer-cert.ts";
export {
  type AuthPolicy,
  defaultAgentClientId,
  defaultAuthPolicy,
  filterCovers,
  type Grants,
  mayPublish,
  maySubscribe,
  type Principal,
  ROLES,
  type Role,
  topicMatches,
} from "./policy.ts";
export { type BrokerTlsConfig, brokerTlsOptions, brokerTlsProblem } from "./tls.ts";
export {
  type AddUserOptions,
  addUser,
  loadUsers,
  parseUsers,
  removeUser,
  type UserEntry,
  type UsersTable,
  withEphemeralUsers,
} from "./users.ts";
