/* transport_addr.c: "HOST:PORT" addresses of peers and of the listener. An IP address is
 * parsed here; a host name is left for uv_getaddrinfo() at each dial, so a peer that moves
 * to another IP under the same name is found again. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "net/transport_internal.h"

static int port_parse(const char *text, bool zero_ok, uint16_t *port)
{
    size_t n = strlen(text);
    if (n == 0 || n > 5) {
        return SYN_EINVAL;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return SYN_EINVAL;
        }
        v = v * 10u + (uint32_t)(text[i] - '0');
    }
    if (v > 65535u || (v == 0 && !zero_ok)) {
        return SYN_EINVAL;
    }
    *port = (uint16_t)v;
    return 0;
}

static bool host_name_valid(const char *host)
{
    for (const char *c = host; *c != '\0'; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_';
        if (!ok) {
            return false;
        }
    }
    return host[0] != '\0';
}

/* Splits text into out->host and the port's text; a bare IPv6 address needs brackets. */
static int addr_split(const char *text, struct transport_addr *out, const char **port,
                      bool *bracketed)
{
    const char *colon = strrchr(text, ':');
    if (colon == NULL) {
        return SYN_EINVAL;
    }
    const char *host = text;
    size_t host_size = (size_t)(colon - text);
    *bracketed = text[0] == '[';
    if (*bracketed) {
        if (host_size < 2 || text[host_size - 1] != ']') {
            return SYN_EINVAL;
        }
        host++;
        host_size -= 2;
    } else if (memchr(text, ':', host_size) != NULL) {
        return SYN_EINVAL;
    }
    if (host_size == 0 || host_size >= sizeof(out->host)) {
        return SYN_EINVAL;
    }
    memcpy(out->host, host, host_size);
    out->host[host_size] = '\0';
    *port = colon + 1;
    return 0;
}

int transport_addr_parse(const char *text, bool port_zero_ok, struct transport_addr *out)
{
    *out = (struct transport_addr){0};
    if (text == NULL || strlen(text) > SYN_MEMBER_ADDR_SIZE_MAX) {
        return SYN_EINVAL;
    }
    const char *port = NULL;
    bool bracketed = false;
    if (addr_split(text, out, &port, &bracketed) != 0 ||
        port_parse(port, port_zero_ok, &out->port) != 0) {
        return SYN_EINVAL;
    }
    if (bracketed) {
        out->numeric = true;
        return uv_ip6_addr(out->host, out->port, (struct sockaddr_in6 *)&out->sa) == 0 ? 0
                                                                                       : SYN_EINVAL;
    }
    out->numeric = uv_ip4_addr(out->host, out->port, (struct sockaddr_in *)&out->sa) == 0;
    return out->numeric || host_name_valid(out->host) ? 0 : SYN_EINVAL;
}

void transport_addr_format(const struct sockaddr *sa, char *out)
{
    /* Copied out, as sa may be less aligned than the structure its family says it is. */
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof(in6));
        uv_ip6_name(&in6, ip, sizeof(ip));
        snprintf(out, TRANSPORT_ADDR_TEXT_SIZE, "[%s]:%u", ip, ntohs(in6.sin6_port));
    } else if (sa->sa_family == AF_INET) {
        struct sockaddr_in in4;
        memcpy(&in4, sa, sizeof(in4));
        uv_ip4_name(&in4, ip, sizeof(ip));
        snprintf(out, TRANSPORT_ADDR_TEXT_SIZE, "%s:%u", ip, ntohs(in4.sin_port));
    } else {
        snprintf(out, TRANSPORT_ADDR_TEXT_SIZE, "?");
    }
}
