/* lb_addr.c: the addresses synod lb listens on and dials: its own (resolved once at start)
 * and the backends' (IP addresses from the registry, never names: the loop does not block
 * on a resolver). */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "lb/lb_internal.h"

int lb_addr_ip(const char *host, uint16_t port, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0 ||
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0) {
        return 0;
    }
    return SYN_EINVAL;
}

int lb_addr_resolve(const char *text, struct sockaddr_storage *out, char *err)
{
    const char *colon = text != NULL ? strrchr(text, ':') : NULL;
    char host[LB_ADDR_SIZE];
    size_t host_len = colon != NULL ? (size_t)(colon - text) : 0;
    unsigned long port = 0;
    char *end = NULL;
    if (colon != NULL && colon[1] != '\0') {
        port = strtoul(colon + 1, &end, 10);
    }
    if (colon == NULL || end == NULL || *end != '\0' || port > 65535 || host_len == 0 ||
        host_len >= sizeof(host)) {
        snprintf(err, LB_ERR_SIZE, "'%s' is not HOST:PORT", text != NULL ? text : "");
        return SYN_EINVAL;
    }
    bool bracketed = text[0] == '[' && text[host_len - 1] == ']';
    memcpy(host, text + bracketed, host_len - 2 * bracketed);
    host[host_len - 2 * bracketed] = '\0';
    if (lb_addr_ip(host, (uint16_t)port, out) == 0) {
        return 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, LB_ERR_SIZE, "%s: %s", text, rc != 0 ? gai_strerror(rc) : "no address");
        return SYN_EINVAL;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (out->ss_family == AF_INET) {
        ((struct sockaddr_in *)out)->sin_port = htons((uint16_t)port);
    } else {
        ((struct sockaddr_in6 *)out)->sin6_port = htons((uint16_t)port);
    }
    return 0;
}

void lb_addr_name(const struct sockaddr_storage *sa, char out[LB_ADDR_SIZE])
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        uv_ip6_name(a, ip, sizeof(ip));
        snprintf(out, LB_ADDR_SIZE, "[%s]:%u", ip, ntohs(a->sin6_port));
        return;
    }
    const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
    uv_ip4_name(a, ip, sizeof(ip));
    snprintf(out, LB_ADDR_SIZE, "%s:%u", ip, ntohs(a->sin_port));
}
