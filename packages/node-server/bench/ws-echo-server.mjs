// The far end of the WebSocket floor, in a process of its own as a node would be: echoes every
// message. Tells its parent the port it listens on; ends with its parent.
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
wss.on('listening', () => process.send({ port: wss.address().port }));
process.on('disconnect', () => process.exit(0));
