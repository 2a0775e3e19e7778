# `cmake --install`: the binary, pgmerge(1) and the bash completion (both
# generated at build time from the binary's own --help, so they cannot
# drift from it), the docs; `cpack -G DEB` packs the same tree.
include(GNUInstallDirs)

set(PGMERGE_MAN ${CMAKE_BINARY_DIR}/pgmerge.1)
set(PGMERGE_COMPLETION ${CMAKE_BINARY_DIR}/pgmerge.bash-completion)
add_custom_command(
  OUTPUT ${PGMERGE_MAN}
  COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/make-man.sh $<TARGET_FILE:pgmerge> ${PGMERGE_MAN}
  DEPENDS pgmerge ${CMAKE_SOURCE_DIR}/scripts/make-man.sh
  COMMENT "pgmerge(1) from pgmerge --help")
add_custom_command(
  OUTPUT ${PGMERGE_COMPLETION}
  COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/make-completion.sh $<TARGET_FILE:pgmerge>
          ${PGMERGE_COMPLETION}
  DEPENDS pgmerge ${CMAKE_SOURCE_DIR}/scripts/make-completion.sh
  COMMENT "bash completion from pgmerge --help")
add_custom_target(pgmerge_docs ALL DEPENDS ${PGMERGE_MAN} ${PGMERGE_COMPLETION})

install(TARGETS pgmerge RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PGMERGE_MAN} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PGMERGE_COMPLETION} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME pgmerge)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md"
        PATTERN "*.yml" PATTERN "*.sh")

set(CPACK_PACKAGE_NAME pgmerge)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "pgmerge maintainers <pgmerge@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "merge two PostgreSQL dumps so production takes development's changes")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # The build keeps its debug info; the package does not.
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
# Shared libraries' packages found by dpkg-shlibdeps (Debian's libpq5,
# libcurl4, libabsl...); psql and pg_dump are what the workflow runs.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "postgresql-client-15 | postgresql-client")
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)  # Quick to build in the test.
include(CPack)
