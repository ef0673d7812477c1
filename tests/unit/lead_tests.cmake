# White-box unit tests of stage internals (included from tests/CMakeLists.txt).
hwcov_add_test(pt_encoder_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/pt_encoder_test.cc
               LIBS hwcov_collector_common hwcov_support Libipt::Libipt)
target_include_directories(pt_encoder_test PRIVATE ${PROJECT_SOURCE_DIR}/collector/common)
