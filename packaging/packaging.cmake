# Installing (cmake --install) and the Debian package (cpack -G DEB, or the
# `package` target); included from the top-level CMakeLists.txt once every
# target exists. Layout and choices: packaging/README.md.
include(GNUInstallDirs)

set(SIPPACER_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/packaging)

# The daemon in sbin, as Debian places daemons; the two tools operators and
# analysts run in bin.
install(TARGETS sippacer RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS sippacer-ctl sippacer-replay RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Built on the patched sofia-sip (-DSIPPACER_SOFIA_PREFIX), the daemon takes
# its libsofia-sip-ua.so.0 along into a private directory, found through a
# relative RUNPATH: /usr/sbin/../lib/sippacer. Debian's libsofia-sip-ua0 has
# the same soname, so the private copy cannot live in the shared library path.
set(SIPPACER_PRIVATE_LIBDIR lib/sippacer)
if(SIPPACER_SOFIA_PREFIX)
  file(RELATIVE_PATH _sippacer_rpath /p/${CMAKE_INSTALL_SBINDIR} /p/${SIPPACER_PRIVATE_LIBDIR})
  set_target_properties(sippacer PROPERTIES INSTALL_RPATH "$ORIGIN/${_sippacer_rpath}")
  file(REAL_PATH ${SIPPACER_SOFIA_PREFIX}/lib/libsofia-sip-ua.so.0 _sippacer_sofia_lib)
  install(FILES ${_sippacer_sofia_lib} DESTINATION ${SIPPACER_PRIVATE_LIBDIR} RENAME libsofia-sip-ua.so.0)
  # Stripped like the executables when installing stripped (CPack does).
  install(CODE "
    if(CMAKE_INSTALL_DO_STRIP)
      execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-unneeded
        \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${SIPPACER_PRIVATE_LIBDIR}/libsofia-sip-ua.so.0\")
    endif()")
  # LGPL-2.1: say what the copy is built from, and ship the changes.
  install(FILES third_party/sofia-sip/README.md third_party/sofia-sip/build.sh
          DESTINATION ${CMAKE_INSTALL_DOCDIR}/sofia-sip)
  install(DIRECTORY third_party/sofia-sip/patches/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/sofia-sip/patches)
  if(EXISTS /usr/share/doc/libsofia-sip-ua0/copyright)
    install(FILES /usr/share/doc/libsofia-sip-ua0/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR}/sofia-sip)
  endif()
endif()

# Man pages, compressed as Debian ships them.
set(_sippacer_man_gz)
foreach(page sippacer.8 sippacer-ctl.8)
  add_custom_command(
    OUTPUT ${CMAKE_BINARY_DIR}/packaging/${page}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/packaging
    COMMAND gzip -9n -c ${SIPPACER_PACKAGING_DIR}/man/${page} > ${CMAKE_BINARY_DIR}/packaging/${page}.gz
    DEPENDS ${SIPPACER_PACKAGING_DIR}/man/${page}
    COMMENT "Compressing man page ${page}"
    VERBATIM)
  list(APPEND _sippacer_man_gz ${CMAKE_BINARY_DIR}/packaging/${page}.gz)
endforeach()
add_custom_target(sippacer_man ALL DEPENDS ${_sippacer_man_gz})
install(FILES ${_sippacer_man_gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)

# Documentation and examples.
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright)
install(FILES packaging/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME README.packaging.md)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs FILES_MATCHING PATTERN "*.md")
install(DIRECTORY examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples USE_SOURCE_PERMISSIONS
        PATTERN "__pycache__" EXCLUDE PATTERN "*.pyc" EXCLUDE)

# The system's files: the unit, /etc/sippacer/sippacer.flags and the
# logrotate snippet. Their place is decided at install time, from the prefix
# the install runs with: under /usr (the .deb) in /etc and
# /usr/lib/systemd/system; under any other prefix in PREFIX/etc and
# PREFIX/lib/systemd/system, the unit's paths rewritten to match.
install(CODE "
  set(SIPPACER_PACKAGING_DIR \"${SIPPACER_PACKAGING_DIR}\")
  set(SIPPACER_STAGING_DIR \"${CMAKE_BINARY_DIR}/packaging/staging\")
  set(SIPPACER_SBINDIR \"${CMAKE_INSTALL_SBINDIR}\")
  set(SIPPACER_DOCDIR \"${CMAKE_INSTALL_DOCDIR}\")
  include(\"${SIPPACER_PACKAGING_DIR}/install-system-files.cmake\")")

# The Debian package.
set(SIPPACER_PACKAGE_MAINTAINER "sippacer maintainers <root@localhost>"
    CACHE STRING "Maintainer field of the .deb")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sippacer)
set(CPACK_PACKAGE_VENDOR "The sippacer authors")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "SIP B2BUA that paces caller IDs by the carriers' final responses")
set(CPACK_PACKAGE_DESCRIPTION "sippacer sits between a dialer and its carrier trunks as a back-to-back user
agent (sofia-sip), counts every final response (603 before ring, 603
Network Blocked, 608, 480, 486 ...) per caller-ID number in rolling windows,
and throttles, then quarantines, the numbers carriers label as spam.
Includes sippacer-ctl (the stats socket's client), sippacer-replay
(backtesting a policy on recorded CDRs), a hardened systemd unit and a
logrotate snippet for the CDR file.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SIPPACER_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies from dpkg-shlibdeps (libabsl, libpq5, libssl3 and,
# built on Debian's sofia-sip, libsofia-sip-ua0); adduser for the postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
if(SIPPACER_SOFIA_PREFIX)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${SIPPACER_SOFIA_PREFIX}/lib)
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "logrotate")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "socat")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${SIPPACER_PACKAGING_DIR}/debian/conffiles
    ${SIPPACER_PACKAGING_DIR}/debian/postinst
    ${SIPPACER_PACKAGING_DIR}/debian/prerm
    ${SIPPACER_PACKAGING_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "__pycache__")
include(CPack)
