# The tracker's live map page, compiled into the binary (ttyd's way).
#
# web/ is a small npm project (Leaflet, bundled by esbuild); its build
# makes one self-contained index.html, which cmake/EmbedFile.cmake turns
# into a C array.  npm installs into the build directory (a copy of
# package.json and package-lock.json there, `npm ci`), never into the
# source tree; npm's cache (~/.npm) is used as usual.
#
#   rs_web_page(OUT_C)           custom commands: npm ci, esbuild, OUT_C
#                                defining rs_web_page[] / rs_web_page_len
#                                (include/routesim/web_page.h)
#   rs_add_web_page(TARGET)      a static library TARGET of that source;
#                                without node and npm (or with
#                                ROUTESIM_WEB_PAGE OFF), of a one-line
#                                page that says so: the tracker's API and
#                                WebSocket still work
#
# Both set, in the caller's scope, RS_WEB_PAGE_HTML (the built index.html)
# and RS_WEB_MODULES (web/'s node_modules: esbuild, leaflet, and the
# browser tests' playwright-core and ws).

option(ROUTESIM_WEB_PAGE "Build the tracker's web page (needs node and npm)" ON)
find_program(RS_NODE node)
find_program(RS_NPM npm)

function(rs_web_page out_c)
  set(src "${PROJECT_SOURCE_DIR}/web")
  set(work "${PROJECT_BINARY_DIR}/web")
  set(stamp "${work}/node_modules/.routesim-npm-ci")
  set(html "${work}/dist/index.html")
  file(MAKE_DIRECTORY "${work}")
  add_custom_command(OUTPUT "${stamp}"
    COMMAND ${CMAKE_COMMAND} -E copy "${src}/package.json"
      "${src}/package-lock.json" "${work}/"
    COMMAND ${RS_NPM} ci --no-audit --no-fund --loglevel=error
    COMMAND ${CMAKE_COMMAND} -E touch "${stamp}"
    WORKING_DIRECTORY "${work}"
    DEPENDS "${src}/package.json" "${src}/package-lock.json"
    COMMENT "npm ci for the web page (web/package-lock.json)"
    VERBATIM)
  file(GLOB sources CONFIGURE_DEPENDS "${src}/src/*")
  set(embed "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/EmbedFile.cmake")
  add_custom_command(OUTPUT "${out_c}" "${html}"
    COMMAND ${RS_NODE} "${src}/build.mjs" --modules "${work}/node_modules"
      "${work}/dist"
    COMMAND ${CMAKE_COMMAND} -DIN=${html} -DOUT=${out_c} -DNAME=rs_web_page
      -DHEADER=routesim/web_page.h -P "${embed}"
    DEPENDS "${stamp}" "${src}/build.mjs" ${sources} "${embed}"
    COMMENT "Building the web page (esbuild) into ${out_c}"
    VERBATIM)
  set(RS_WEB_PAGE_HTML "${html}" PARENT_SCOPE)
  set(RS_WEB_MODULES "${work}/node_modules" PARENT_SCOPE)
endfunction()

# The stand-in page of a build without node and npm.
function(rs_web_page_missing out_c why)
  set(html "${PROJECT_BINARY_DIR}/web/missing.html")
  file(WRITE "${html}" "<!doctype html><html><head><title>routesim</title>"
    "</head><body><p>This routesim was built without its live map page "
    "(${why}); /api/routes and the /ws stream work.</p></body></html>\n")
  execute_process(COMMAND ${CMAKE_COMMAND} -DIN=${html} -DOUT=${out_c}
    -DNAME=rs_web_page -DHEADER=routesim/web_page.h
    -P "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/EmbedFile.cmake"
    COMMAND_ERROR_IS_FATAL ANY)
endfunction()

function(rs_add_web_page target)
  set(out_c "${PROJECT_BINARY_DIR}/web/web_page.c")
  if(NOT ROUTESIM_WEB_PAGE)
    message(STATUS "routesim: the web page left out: ROUTESIM_WEB_PAGE is OFF")
    rs_web_page_missing("${out_c}" "ROUTESIM_WEB_PAGE was OFF")
  elseif(NOT RS_NODE OR NOT RS_NPM)
    if(ROUTESIM_REQUIRE_TEST_DEPS)
      message(FATAL_ERROR "routesim: the web page needs node and npm (scripts/deps.sh installs them)")
    endif()
    message(STATUS "routesim: the web page left out, missing: node or npm "
      "(scripts/deps.sh installs them)")
    rs_web_page_missing("${out_c}" "node and npm were missing")
  else()
    rs_web_page("${out_c}")
  endif()
  add_library(${target} STATIC "${out_c}")
  target_include_directories(${target} PUBLIC "${PROJECT_SOURCE_DIR}/include")
  set(RS_WEB_PAGE_HTML "${RS_WEB_PAGE_HTML}" PARENT_SCOPE)
  set(RS_WEB_MODULES "${RS_WEB_MODULES}" PARENT_SCOPE)
endfunction()
