/* A stand-in for TorchSharp's shim: needs one old libstdc++ version and the GLIBCXX_3.4.32 anchor. */
extern void _ZNSt8ios_base4InitC1Ev(void);
extern void _ZSt21ios_base_library_initv(void);
#ifdef WITH_OTHER
extern void _ZNSt3pmr20get_default_resourceEv(void);
#endif
void shim_entry(void)
{
    _ZNSt8ios_base4InitC1Ev();
    _ZSt21ios_base_library_initv();
#ifdef WITH_OTHER
    _ZNSt3pmr20get_default_resourceEv();
#endif
}
