/* dns_text.h: a DNS message as lines of text, one per record, for debug logs and tests (a
 * response is checked by comparing its text). Decodes with the same reader as queries
 * (dns_msg.h), so it also checks that a message we built reads back. Pure. */
#ifndef SYN_DNS_TEXT_H
#define SYN_DNS_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Writes msg as text into out (size bytes, NUL-terminated):
 *
 *   id=4660 NOERROR qr aa rd
 *   Q web.service.synod IN SRV
 *   AN web.service.synod 0 SRV 1 1 8080 n1.node.synod
 *   NS synod 0 SOA ns.synod hostmaster.synod 1 3600 600 86400 0
 *   AR n1.node.synod 0 A 10.0.0.1
 *   AR . OPT 1232 0 0          (UDP size, extended RCODE bits, version)
 *
 * Header flags printed: qr aa tc rd ra; RCODEs by name (RCODE<n> otherwise); types A, NS,
 * CNAME, SOA, PTR, MX, TXT, AAAA, SRV, OPT, ANY by name with A, AAAA, SRV and SOA data
 * decoded and other data as its size ("TYPE99 [12 bytes]"). 0; SYN_EBADMSG (malformed:
 * out has the lines read so far); SYN_ETOOBIG (out too small). */
int dns_msg_text(const uint8_t *msg, size_t size, char *out, size_t out_size);

/* An RCODE's name: "NOERROR", "NXDOMAIN", ...; NULL when it has none here. */
const char *dns_rcode_name(uint32_t rcode);

#endif
