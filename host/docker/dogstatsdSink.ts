// The docker target's optional DogStatsD sink: a node program that listens where the service sends its metrics
// (DD_AGENT_HOST:DD_DOGSTATSD_PORT, UDP) and writes each metric line to stdout, so `docker logs` shows them. It
// stands in for the Datadog agent, which needs an API key: the sink needs none and sends nothing anywhere.
// Pure: the program text, run with `node -e` in the official Node image.

/** DogStatsD's port, where the service sends (app/config.ts DD_DOGSTATSD_PORT). */
export const dogstatsdPort = 8125;

/** Network alias of the sink on the private network: the service containers' DD_AGENT_HOST. */
export const dogstatsdSinkAlias = "dogstatsd";

/**
 * The sink program. Listens on 0.0.0.0 (its container's address) at DOGSTATSD_PORT or 8125; one stdout line per
 * metric, `dogstatsd <line>`; a datagram may carry several metrics separated by newlines (hot-shots' buffering).
 */
export function renderDogstatsdSink(): string {
  return [
    `const dgram=require('node:dgram');`,
    `const port=Number(process.env.DOGSTATSD_PORT||${dogstatsdPort});`,
    `const s=dgram.createSocket('udp4');`,
    `s.on('message',m=>{for(const l of m.toString('utf8').split('\\n'))if(l)process.stdout.write('dogstatsd '+l+'\\n')});`,
    `s.on('listening',()=>console.error('dogstatsd sink on udp '+s.address().port));`,
    `s.bind(port,'0.0.0.0');`,
    `process.on('SIGTERM',()=>s.close(()=>process.exit(0)));`,
  ].join("");
}
