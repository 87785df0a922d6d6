/*
 * web_page.h: the tracker's live map page, compiled into the binary.
 *
 * web/ (an npm project: Leaflet, bundled by esbuild) is built at build time
 * into one self-contained index.html, JS and CSS inlined, that fetches
 * nothing from elsewhere; cmake/WebPage.cmake turns it into these two
 * constants (library routesim_page).  The bytes are the HTML itself, not
 * compressed: serve them as "text/html; charset=utf-8" with no
 * Content-Encoding.  Read-only, static storage: nothing to free.
 */
#ifndef ROUTESIM_WEB_PAGE_H
#define ROUTESIM_WEB_PAGE_H

#include <stddef.h>

/* The page's bytes (followed by a NUL that rs_web_page_len leaves out). */
extern const unsigned char rs_web_page[];
/* Its length in bytes. */
extern const size_t rs_web_page_len;

#endif
