#pragma once
/* CHTTPShim: the HTTP daemon over libmicrohttpd. Knows HTTP, nothing of models. */
