export {
  ClientServer,
  CLIENT_CLOSE,
  CLIENT_SERVER_LIMITS_DEFAULT,
  type ClientHandler,
  type ClientContext,
  type ClientServerLimits,
  type ClientServerOptions,
  type ClientServerStats,
} from './client-server.js';
