/* version.h - the version string, set by the build (CMakeLists.txt). */
#ifndef ROUTESIM_VERSION_H
#define ROUTESIM_VERSION_H

#ifndef RS_VERSION
#define RS_VERSION "0.0.0-dev"
#endif

#endif
