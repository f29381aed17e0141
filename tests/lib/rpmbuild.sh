# rpmbuild_bb DIR COMPRESS: rpmbuild -bb of DIR/spec with the build root
# DIR/root into DIR/top/RPMS, SOURCE_DATE_EPOCH from DIR/sde, with the
# payload compression of packaging/rpm_write.c for COMPRESS (gzip, xz,
# zstd) and macros that pin everything else: what rpmbuild would make of
# the spec `dkimrot` renders, for tests/e2e/rpm_header.sh and the bench.
rpmbuild_bb() {
	case $2 in
	gzip) _rb_payload=w6.gzdio ;;
	xz) _rb_payload=w2.xzdio ;;
	zstd) _rb_payload=w9.zstdio ;;
	*) echo "rpmbuild_bb: unknown compression '$2'" >&2; return 2 ;;
	esac
	SOURCE_DATE_EPOCH=$(cat "$1/sde") rpmbuild -bb --quiet \
	    --define "_topdir $1/top" --define "buildroot $1/root" \
	    --define '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm' \
	    --define "_binary_payload $_rb_payload" \
	    --define "_fileattrsdir $1/fileattrs" \
	    --define '_build_id_links none' --define '__os_install_post %{nil}' \
	    --define 'debug_package %{nil}' --define '_enable_debug_packages 0' \
	    --define '__check_files %{nil}' --define '_build_pkgcheck %{nil}' \
	    --define '_build_pkgcheck_set %{nil}' \
	    --define '_smp_build_ncpus 1' --define '_smp_build_nthreads 1' \
	    --define '_buildhost dkimrot' \
	    --define 'use_source_date_epoch_as_buildtime 1' \
	    --define 'clamp_mtime_to_source_date_epoch 1' \
	    --define 'source_date_epoch_from_changelog 0' \
	    --define '_changelog_trimage 0' --define '_changelog_trimtime 0' \
	    --noclean "$1/spec"
}
