# Installs the unit, /etc/sippacer/sippacer.flags and the logrotate snippet;
# run at install time (packaging.cmake), where CMAKE_INSTALL_PREFIX is the
# prefix of this install. Under /usr (the .deb) they go to /etc and
# /usr/lib/systemd/system, as written in packaging/; under another prefix to
# PREFIX/etc and PREFIX/lib/systemd/system, with the unit's paths rewritten.
set(_prefix "${CMAKE_INSTALL_PREFIX}")
if(_prefix STREQUAL "/usr")
  set(_etc /etc)
else()
  set(_etc "${_prefix}/etc")
endif()

file(READ "${SIPPACER_PACKAGING_DIR}/sippacer.service" _unit)
if(NOT _prefix STREQUAL "/usr")
  string(REPLACE "/usr/sbin/sippacer" "${_prefix}/${SIPPACER_SBINDIR}/sippacer" _unit "${_unit}")
  string(REPLACE "/etc/sippacer/" "${_etc}/sippacer/" _unit "${_unit}")
  string(REPLACE "file:/usr/share/doc/sippacer/" "file:${_prefix}/${SIPPACER_DOCDIR}/" _unit "${_unit}")
endif()
file(MAKE_DIRECTORY "${SIPPACER_STAGING_DIR}")
file(WRITE "${SIPPACER_STAGING_DIR}/sippacer.service" "${_unit}")

file(INSTALL "${SIPPACER_STAGING_DIR}/sippacer.service"
     DESTINATION "${_prefix}/lib/systemd/system"
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(INSTALL "${SIPPACER_PACKAGING_DIR}/sippacer.flags"
     DESTINATION "${_etc}/sippacer"
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(INSTALL "${SIPPACER_PACKAGING_DIR}/sippacer.logrotate"
     DESTINATION "${_etc}/logrotate.d"
     RENAME sippacer
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
