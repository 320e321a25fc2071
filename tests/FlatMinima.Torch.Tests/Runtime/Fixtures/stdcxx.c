/* A stand-in for libstdc++.so.6: two functions under GNU symbol versions (see the version scripts). */
void _ZNSt8ios_base4InitC1Ev(void) {}
#ifdef WITH_ANCHOR
void _ZSt21ios_base_library_initv(void) {}
#endif
#ifdef WITH_OTHER
void _ZNSt3pmr20get_default_resourceEv(void) {}
#endif
